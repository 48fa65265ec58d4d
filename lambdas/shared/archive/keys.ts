import { InvalidInput } from '../errors.js';
import { isTicketId } from '../ids.js';

/**
 * Object keys: `tickets/{ticketId}/{attachmentId}{ext}`. Deterministic, so a repeat writes the same key; built from
 * IDs only, so a file name (PII, attacker-controlled) can shape nothing but a short `[a-z0-9]` extension.
 */

export const DEFAULT_KEY_PREFIX = 'tickets';

/** `.` + 1-10 ASCII letters or digits: the only extensions a key may carry. */
const SANE_EXTENSION = /^\.[a-z0-9]{1,10}$/;

/** The file name's extension, lower-cased, when it is sane; undefined for dotfiles (`.bashrc`) and odd names. */
export function extensionFromName(fileName: string): string | undefined {
  const match = /\.([A-Za-z0-9]{1,10})$/.exec(fileName);
  if (!match) return undefined;
  const stem = fileName.slice(0, match.index);
  const base = stem.slice(Math.max(stem.lastIndexOf('/'), stem.lastIndexOf('\\')) + 1);
  // Only dots before the extension (".pdf", "..pdf"): a dotfile, not an extension.
  if (!/[^.]/.test(base)) return undefined;
  return `.${match[1]!.toLowerCase()}`;
}

/** A detected extension (file-type's `ext`, without the dot) as a key suffix, or undefined when it is not sane. */
export function saneExtension(ext: string | undefined): string | undefined {
  if (!ext) return undefined;
  const candidate = `.${ext.toLowerCase()}`;
  return SANE_EXTENSION.test(candidate) ? candidate : undefined;
}

function checkIds(ticketId: string, attachmentId: number): void {
  if (!isTicketId(ticketId)) throw new InvalidInput('ticketId must be a ticket number (1-20 digits, no leading zero)');
  if (!Number.isSafeInteger(attachmentId) || attachmentId <= 0) {
    throw new InvalidInput('attachmentId must be a positive integer');
  }
}

/** `tickets/{ticketId}/{attachmentId}`: every key of this attachment starts with it. */
export function attachmentKeyBase(ticketId: string, attachmentId: number, keyPrefix = DEFAULT_KEY_PREFIX): string {
  checkIds(ticketId, attachmentId);
  return `${keyPrefix}/${ticketId}/${attachmentId}`;
}

/** The key of an attachment's copy; `ext` is `.pdf` style (from extensionFromName or saneExtension) or undefined. */
export function archiveKey(
  ticketId: string,
  attachmentId: number,
  ext: string | undefined,
  keyPrefix = DEFAULT_KEY_PREFIX,
): string {
  if (ext !== undefined && !SANE_EXTENSION.test(ext)) throw new InvalidInput('extension must be "." + 1-10 of [a-z0-9]');
  return `${attachmentKeyBase(ticketId, attachmentId, keyPrefix)}${ext ?? ''}`;
}

/**
 * True when `key` is a copy of the attachment whose keys start with `base`: `base` itself or `base` + a sane
 * extension. `tickets/1/12.pdf` is attachment 12's, `tickets/1/123.pdf` is not.
 */
export function isAttachmentKey(key: string, base: string): boolean {
  if (!key.startsWith(base)) return false;
  const rest = key.slice(base.length);
  return rest === '' || SANE_EXTENSION.test(rest);
}
