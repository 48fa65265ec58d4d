import { parseCopyResults, parseRedactionRecords } from '../shared/copies.js';
import { copyInlineMaxFiles, idempotencyTable, tagConfig } from '../shared/config.js';
import { InvalidInput } from '../shared/errors.js';
import { parseTicketId } from '../shared/ids.js';
import { parseRunFileRef, runFilesFromEnv, type RunFiles } from '../shared/run-files.js';
import { isRecord, parseExecution, step } from '../shared/step.js';
import { dynamoTicketLocks, sfnIsRunning, type TicketLocks } from '../shared/ticket-lock.js';
import type { MarkResult } from '../shared/types.js';
import { waitingForZendesk } from '../shared/waits.js';
import { zendeskFromEnv } from '../shared/zendesk/from-env.js';
import { finishTicket, type FinishInput } from './finish.js';

let locks: TicketLocks | undefined;
let files: RunFiles | undefined;

/** How the redaction went, from the state (RedactState), with the records from the run's redaction.json. */
async function redactionOf(redaction: Record<string, unknown>, runFiles: RunFiles): Promise<FinishInput['redaction']> {
  if (redaction.file === undefined) return { records: [] };
  const records = parseRedactionRecords(await runFiles.read(parseRunFileRef(redaction.file, runFiles.bucket, 'redaction.file')));
  const numbers = Object.fromEntries(
    (['passes', 'maxPasses', 'commentsLeft', 'projectedSeconds'] as const).flatMap((k) => (typeof redaction[k] === 'number' ? [[k, redaction[k]]] : [])),
  );
  return { records, ...numbers };
}

/** The thin door of FinishTicket: `{ticketId, mark, copies: CopiesState, redaction: RedactState, executionName, executionArn, zendeskWaits}`. */
export const handler = step('FinishTicket', async (event: unknown) => {
  if (!isRecord(event) || !isRecord(event.mark) || !isRecord(event.copies) || !isRecord(event.redaction)) {
    throw new InvalidInput('FinishTicket expects {ticketId, mark, copies, redaction}');
  }
  const ticketId = parseTicketId(event.ticketId);
  const { executionName } = parseExecution(event);
  locks ??= dynamoTicketLocks(idempotencyTable(), sfnIsRunning());
  const runFiles = (files ??= runFilesFromEnv());
  const input: FinishInput = {
    ticketId,
    mark: event.mark as unknown as MarkResult,
    copies: parseCopyResults(await runFiles.read(parseRunFileRef(event.copies.file, runFiles.bucket, 'copies.file'))),
    redaction: await redactionOf(event.redaction, runFiles),
  };
  const deps = { zendesk: await zendeskFromEnv(), tags: tagConfig(), locks, executionName, save: (summary: unknown) => runFiles.write(executionName, 'summary', summary), inlineMaxFiles: copyInlineMaxFiles() };
  return waitingForZendesk(event.zendeskWaits, () => finishTicket(input, deps));
});
