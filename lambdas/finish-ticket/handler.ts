import { idempotencyTable, tagConfig } from '../shared/config.js';
import { InvalidInput } from '../shared/errors.js';
import { parseTicketId } from '../shared/ids.js';
import { isRecord, parseExecution, step } from '../shared/step.js';
import { dynamoTicketLocks, sfnIsRunning, type TicketLocks } from '../shared/ticket-lock.js';
import type { CopyResult, MarkResult, RedactResult } from '../shared/types.js';
import { waitingForZendesk } from '../shared/waits.js';
import { zendeskFromEnv } from '../shared/zendesk/from-env.js';
import { finishTicket } from './finish.js';

let locks: TicketLocks | undefined;

/** The thin door of FinishTicket: `{ticketId, mark, copies, redaction, executionName, executionArn, zendeskWaits}`. */
export const handler = step('FinishTicket', async (event: unknown) => {
  if (!isRecord(event) || !isRecord(event.mark) || !Array.isArray(event.copies) || !isRecord(event.redaction)) {
    throw new InvalidInput('FinishTicket expects {ticketId, mark, copies, redaction}');
  }
  const ticketId = parseTicketId(event.ticketId);
  const { executionName } = parseExecution(event);
  locks ??= dynamoTicketLocks(idempotencyTable(), sfnIsRunning());
  const input = {
    ticketId,
    mark: event.mark as unknown as MarkResult,
    copies: event.copies as CopyResult[],
    redaction: event.redaction as unknown as RedactResult,
  };
  const deps = { zendesk: await zendeskFromEnv(), tags: tagConfig(), locks, executionName };
  return waitingForZendesk(event.zendeskWaits, () => finishTicket(input, deps));
});
