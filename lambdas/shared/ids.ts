import { InvalidInput } from './errors.js';

/**
 * Zendesk record IDs, read the same way at every door (webhook, steps, CLI, S3 keys, Zendesk paths).
 *
 * A ticket ID is canonical decimal digits: 1-20 digits without a leading zero (Zendesk IDs are positive 64-bit
 * integers). A JSON string is taken as is; a number only when it is a safe integer, because a larger one has
 * already lost digits. Signs, spaces, decimals, exponents and leading zeros are refused, so one ticket always maps
 * to one execution name and one S3 prefix.
 */
const TICKET_ID = /^[1-9][0-9]{0,19}$/;

/** The canonical ticket ID, or undefined when `value` is not one. */
export function ticketIdOf(value: unknown): string | undefined {
  if (typeof value === 'string') return TICKET_ID.test(value) ? value : undefined;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return String(value);
  return undefined;
}

/** The canonical ticket ID; throws InvalidInput otherwise. */
export function parseTicketId(value: unknown): string {
  const id = ticketIdOf(value);
  if (id === undefined) throw new InvalidInput('ticketId must be a ticket number (1-20 digits, no leading zero)');
  return id;
}

/** True for a canonical ticket ID string. */
export function isTicketId(value: unknown): value is string {
  return typeof value === 'string' && TICKET_ID.test(value);
}

/** A comment or attachment ID: a positive safe integer (state data carries them as JSON numbers). */
export function parseRecordId(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) throw new InvalidInput(`${name} must be a positive integer`);
  return value;
}
