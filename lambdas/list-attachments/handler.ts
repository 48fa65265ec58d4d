import { copyInlineMaxFiles, mapMaxConcurrency } from '../shared/config.js';
import { InvalidInput } from '../shared/errors.js';
import { parseTicketId } from '../shared/ids.js';
import { runFilesFromEnv, type RunFiles } from '../shared/run-files.js';
import { isRecord, parseExecution, step } from '../shared/step.js';
import { waitingForZendesk } from '../shared/waits.js';
import { zendeskFromEnv } from '../shared/zendesk/from-env.js';
import { listAttachments } from './list.js';

let files: RunFiles | undefined;

/** The thin door of ListAttachments: `{ticketId, executionName, executionArn, zendeskWaits}`. */
export const handler = step('ListAttachments', async (event: unknown) => {
  if (!isRecord(event)) throw new InvalidInput('ListAttachments expects {ticketId, executionName, executionArn}');
  const ticketId = parseTicketId(event.ticketId);
  const { executionName } = parseExecution(event);
  files ??= runFilesFromEnv();
  const deps = { zendesk: await zendeskFromEnv(), maxConcurrency: mapMaxConcurrency(), inlineMaxFiles: copyInlineMaxFiles(), files, executionName };
  return waitingForZendesk(event.zendeskWaits, () => listAttachments(ticketId, deps));
});
