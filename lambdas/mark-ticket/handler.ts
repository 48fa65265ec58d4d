import { idempotencyTable, tagConfig } from '../shared/config.js';
import { InvalidInput } from '../shared/errors.js';
import { parseTicketId } from '../shared/ids.js';
import { isRecord, parseExecution, step } from '../shared/step.js';
import { dynamoTicketLocks, sfnIsRunning, type TicketLocks } from '../shared/ticket-lock.js';
import { waitingForZendesk } from '../shared/waits.js';
import { zendeskFromEnv } from '../shared/zendesk/from-env.js';
import { markTicket } from './mark.js';

let locks: TicketLocks | undefined;

/** The thin door of MarkTicket: `{ticketId, executionName, executionArn, zendeskWaits}` (the ASL passes `$$.Execution`). */
export const handler = step('MarkTicket', async (event: unknown) => {
  if (!isRecord(event)) throw new InvalidInput('MarkTicket expects {ticketId, executionName, executionArn}');
  const ticketId = parseTicketId(event.ticketId);
  const execution = parseExecution(event);
  locks ??= dynamoTicketLocks(idempotencyTable(), sfnIsRunning());
  const deps = { zendesk: await zendeskFromEnv(), tags: tagConfig(), locks, execution };
  return waitingForZendesk(event.zendeskWaits, () => markTicket(ticketId, deps));
});
