import { compareKeys, keyText, parseKeyText, type TicketKey } from './order.js';

/**
 * Joining the parts into one manifest in created order, each ticket once, with memory that does not grow with the
 * selection. Each part is sorted and named by its first and last key. Parts whose ranges overlap (the same window read
 * again after a stale cursor or a retried invocation, or an export that is not in ascending order) form one group and
 * are merged line by line; groups never overlap, so they are written one after the other.
 */

export interface PartName {
  key: string;
  first: TicketKey;
  last: TicketKey;
}

export function partName(prefix: string, first: TicketKey, last: TicketKey, seq: number): string {
  return `${prefix}${keyText(first)}_${keyText(last)}_${String(seq).padStart(6, '0')}.jsonl`;
}

/** The range a part's key names, or undefined for any other key under the prefix. */
export function parsePartName(prefix: string, key: string): PartName | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const match = /^([0-9-]{32})_([0-9-]{32})_\d{6}\.jsonl$/.exec(key.slice(prefix.length));
  const first = match && parseKeyText(match[1]!);
  const last = match && parseKeyText(match[2]!);
  return first && last && compareKeys(first, last) <= 0 ? { key, first, last } : undefined;
}

/** Parts in groups of overlapping ranges, the groups in order. */
export function groupParts(parts: readonly PartName[]): PartName[][] {
  const sorted = [...parts].sort((a, b) => compareKeys(a.first, b.first) || compareKeys(a.last, b.last));
  const groups: PartName[][] = [];
  let last: TicketKey | undefined;
  for (const part of sorted) {
    const group = groups[groups.length - 1];
    if (group && last && compareKeys(part.first, last) <= 0) {
      group.push(part);
      if (compareKeys(part.last, last) > 0) last = part.last;
    } else {
      groups.push([part]);
      last = part.last;
    }
  }
  return groups;
}

/** The k-way merge of sorted streams of keys, each key once. */
export async function* mergeSorted(sources: ReadonlyArray<AsyncIterable<TicketKey>>): AsyncGenerator<TicketKey> {
  const iterators = sources.map((s) => s[Symbol.asyncIterator]());
  const heads: Array<TicketKey | undefined> = await Promise.all(iterators.map(async (it) => (await it.next()).value as TicketKey | undefined));
  let previous: TicketKey | undefined;
  for (;;) {
    let best = -1;
    heads.forEach((head, index) => {
      if (head && (best < 0 || compareKeys(head, heads[best]!) < 0)) best = index;
    });
    if (best < 0) return;
    const key = heads[best]!;
    if (!previous || compareKeys(previous, key) !== 0) yield key;
    previous = key;
    const next = await iterators[best]!.next();
    heads[best] = next.done ? undefined : next.value;
  }
}
