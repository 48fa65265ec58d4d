import { tagConfig } from '../shared/config.js';
import { parseTicketId } from '../shared/ids.js';
import { isRecord, step } from '../shared/step.js';
import { InvalidInput } from '../shared/errors.js';
import { zendeskFromEnv } from '../shared/zendesk/from-env.js';
import { markTicket } from './mark.js';

export const handler = step('MarkTicket', async (event: unknown) => {
  if (!isRecord(event)) throw new InvalidInput('MarkTicket expects {ticketId}');
  const ticketId = parseTicketId(event.ticketId);
  return markTicket(ticketId, { zendesk: await zendeskFromEnv(), tags: tagConfig() });
});
