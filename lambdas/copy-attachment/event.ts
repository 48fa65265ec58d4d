import { InvalidInput } from '../shared/errors.js';
import { parseTicketId } from '../shared/ids.js';
import { isRecord } from '../shared/step.js';
import type { CopyInput, TicketContext } from '../shared/types.js';

function integer(value: unknown, name: string, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new InvalidInput(`attachment.${name} must be an integer >= ${min}`);
  }
  return value;
}

/** MarkTicket's ticket facts (optional): ID strings and an ISO date, anything else dropped. */
function ticketContextOf(value: unknown): TicketContext | undefined {
  if (!isRecord(value)) return undefined;
  const id = (v: unknown) => (typeof v === 'string' && /^[1-9][0-9]{0,19}$/.test(v) ? v : undefined);
  const requesterId = id(value.requesterId);
  const brandId = id(value.brandId);
  const createdAt = typeof value.createdAt === 'string' && !Number.isNaN(Date.parse(value.createdAt)) ? value.createdAt : undefined;
  return { ...(requesterId ? { requesterId } : {}), ...(brandId ? { brandId } : {}), ...(createdAt ? { createdAt } : {}) };
}

/** The Map item: `{ ticketId: "123", ticketContext?, attachment: { attachmentId, commentId, size, inline } }`, nothing else read. */
export function parseCopyEvent(event: unknown): CopyInput {
  if (!isRecord(event)) throw new InvalidInput('the event must be an object');
  const ticketId = parseTicketId(event.ticketId);
  const attachment = event.attachment;
  if (!isRecord(attachment)) throw new InvalidInput('attachment must be an object');
  if (typeof attachment.inline !== 'boolean') throw new InvalidInput('attachment.inline must be a boolean');
  const executionName = event.executionName;
  if (executionName !== undefined && (typeof executionName !== 'string' || !/^[0-9A-Za-z_-]{1,80}$/.test(executionName))) {
    throw new InvalidInput('executionName must be a Step Functions execution name');
  }
  const ticketContext = ticketContextOf(event.ticketContext);
  return {
    ticketId,
    ...(executionName !== undefined ? { executionName } : {}),
    ...(ticketContext ? { ticketContext } : {}),
    attachment: {
      attachmentId: integer(attachment.attachmentId, 'attachmentId', 1),
      commentId: integer(attachment.commentId, 'commentId', 1),
      size: integer(attachment.size, 'size', 0),
      inline: attachment.inline,
    },
  };
}
