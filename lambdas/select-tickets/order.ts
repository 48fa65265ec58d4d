import type { ManifestLine } from '../shared/backfill-files.js';

/**
 * The selection's order: created time (whole seconds), then ticket ID as a number. Both are kept as text that sorts the
 * same way (zero-padded), so that a part's first and last key can name its S3 object and a listing sorts by them.
 */

/** A selected ticket: created time in epoch seconds and its ID (decimal digits). */
export type TicketKey = readonly [at: number, id: string];

export function compareKeys(a: TicketKey, b: TicketKey): number {
  return a[0] - b[0] || a[1].length - b[1].length || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);
}

/** `01704164645-00000000000000000123`: sorts as the key does. */
export function keyText([at, id]: TicketKey): string {
  return `${String(at).padStart(11, '0')}-${id.padStart(20, '0')}`;
}

/** The key of a keyText, or undefined when it is not one. */
export function parseKeyText(text: string): TicketKey | undefined {
  const match = /^(\d{11})-(\d{20})$/.exec(text);
  if (!match) return undefined;
  const id = match[2]!.replace(/^0+(?=\d)/, '');
  return id === '0' ? undefined : [Number(match[1]), id];
}

/** `2024-01-02T03:04:05Z`. */
export function isoSeconds(at: number): string {
  return new Date(at * 1000).toISOString().replace('.000Z', 'Z');
}

export function epochSeconds(iso: string): number {
  return Math.floor(Date.parse(iso) / 1000);
}

/** One JSONL line, exactly `{"ticketId":"…","createdAt":"…"}`. */
export function lineOf(key: TicketKey): string {
  const line: ManifestLine = { ticketId: key[1], createdAt: isoSeconds(key[0]) };
  return JSON.stringify(line);
}

/** The key of a line this step wrote; undefined for anything else. */
export function keyOfLine(line: string): TicketKey | undefined {
  try {
    const { ticketId, createdAt } = JSON.parse(line) as Partial<ManifestLine>;
    if (typeof ticketId !== 'string' || !/^[1-9]\d{0,19}$/.test(ticketId) || typeof createdAt !== 'string') return undefined;
    const at = epochSeconds(createdAt);
    return Number.isFinite(at) ? [at, ticketId] : undefined;
  } catch {
    return undefined;
  }
}

/** Sorted, each key once. */
export function sortedUnique(keys: readonly TicketKey[]): TicketKey[] {
  const sorted = [...keys].sort(compareKeys);
  return sorted.filter((key, index) => index === 0 || compareKeys(sorted[index - 1]!, key) !== 0);
}
