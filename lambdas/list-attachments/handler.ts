import { mapMaxConcurrency } from '../shared/config.js';
import { InvalidInput } from '../shared/errors.js';
import { parseTicketId } from '../shared/ids.js';
import { isRecord, step } from '../shared/step.js';
import { waitingForZendesk } from '../shared/waits.js';
import { zendeskFromEnv } from '../shared/zendesk/from-env.js';
import { listAttachments } from './list.js';

export const handler = step('ListAttachments', async (event: unknown) => {
  if (!isRecord(event)) throw new InvalidInput('ListAttachments expects {ticketId}');
  const ticketId = parseTicketId(event.ticketId);
  const deps = { zendesk: await zendeskFromEnv(), maxConcurrency: mapMaxConcurrency() };
  return waitingForZendesk(event.zendeskWaits, () => listAttachments(ticketId, deps));
});
