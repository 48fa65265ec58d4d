import { mapMaxConcurrency } from '../shared/config.js';
import { InvalidInput } from '../shared/errors.js';
import { parseTicketId } from '../shared/ids.js';
import { isRecord, step } from '../shared/step.js';
import { zendeskFromEnv } from '../shared/zendesk/from-env.js';
import { listAttachments } from './list.js';

export const handler = step('ListAttachments', async (event: unknown) => {
  if (!isRecord(event)) throw new InvalidInput('ListAttachments expects {ticketId}');
  const ticketId = parseTicketId(event.ticketId);
  return listAttachments(ticketId, { zendesk: await zendeskFromEnv(), maxConcurrency: mapMaxConcurrency() });
});
