import { tagConfig } from '../shared/config.js';
import { InvalidInput } from '../shared/errors.js';
import { parseTicketId } from '../shared/ids.js';
import { isRecord, step } from '../shared/step.js';
import type { CopyResult, MarkResult, RedactResult } from '../shared/types.js';
import { zendeskFromEnv } from '../shared/zendesk/from-env.js';
import { finishTicket } from './finish.js';

export const handler = step('FinishTicket', async (event: unknown) => {
  if (!isRecord(event) || !isRecord(event.mark) || !Array.isArray(event.copies) || !isRecord(event.redaction)) {
    throw new InvalidInput('FinishTicket expects {ticketId, mark, copies, redaction}');
  }
  const ticketId = parseTicketId(event.ticketId);
  return finishTicket(
    {
      ticketId,
      mark: event.mark as unknown as MarkResult,
      copies: event.copies as CopyResult[],
      redaction: event.redaction as unknown as RedactResult,
    },
    { zendesk: await zendeskFromEnv(), tags: tagConfig() },
  );
});
