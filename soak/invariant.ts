/**
 * The product's hard rule for one file, as the fault suite (test/faults/invariant.ts) and the soak check it:
 *
 *   (archived in S3 with the right bytes AND redacted in Zendesk)  OR  (still present in Zendesk AND reported as not redacted)
 *
 * and never (redacted in Zendesk AND not verifiably in S3), never named in two redaction requests Zendesk carried out.
 * "Verifiably" means an object of this attachment whose bytes hash to the original SHA-256 and whose metadata carries
 * its proof: `sha256` saying so (one-request upload), or `checksum: crc32-full-object` (a multipart upload, proven by
 * S3's full-object CRC32). Also checked: the report never claims a redaction Zendesk does not show, and never points at
 * an object that does not hold the file.
 */

export interface FileVerdict {
  attachmentId: number;
  zendesk: 'present' | 'redacted' | 'missing';
  /** Keys of this attachment whose bytes and metadata match the original. */
  goodKeys: string[];
  /** Keys of this attachment that do not (partial, foreign, stale). */
  badKeys: string[];
  reported?: { outcome: string; redacted: boolean; s3Key?: string; reason?: string };
  /** Redaction requests Zendesk received that named this attachment (it is redacted by the first; a second is a bug). */
  redactionRequests?: number;
}

/** What a breach is, for counting: the soak reports each kind. */
export type Breach = 'lost' | 'redactedUnverified' | 'redactedTwice' | 'unreported' | 'misreported';

export interface BreachOf {
  breach: Breach;
  message: string;
}

/** `tickets/{t}/{a}` or `tickets/{t}/{a}.ext`, never `tickets/{t}/{a}1`. */
export function isKeyOf(key: string, base: string): boolean {
  return key === base || (key.startsWith(`${base}.`) && /^\.[a-z0-9]{1,10}$/.test(key.slice(base.length)));
}

/** Whether an object's metadata carries the proof of its bytes (the bytes themselves are compared by the caller). */
export function carriesProof(metadata: Record<string, string>, sha256: string): boolean {
  return metadata.sha256 === sha256 || (metadata.sha256 === undefined && metadata.checksum === 'crc32-full-object');
}

/** Which attachment each redaction request Zendesk carried out named (an index, so a large ticket is not scanned once per file). */
export function redactionRequestsByAttachment(redactions: Iterable<{ redacted: Array<{ attachmentId: number }>; alreadyRedacted: number[] }>): Map<number, number> {
  const counts = new Map<number, number>();
  for (const r of redactions) {
    for (const id of new Set([...r.redacted.map((x) => x.attachmentId), ...r.alreadyRedacted])) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

/** Every breach of the hard rule by this file, with its words. */
export function breachesOf(f: FileVerdict): BreachOf[] {
  const out: BreachOf[] = [];
  const id = f.attachmentId;
  if (f.zendesk === 'missing') out.push({ breach: 'lost', message: `${id}: not in Zendesk at all (the sandbox lost it?)` });
  if ((f.redactionRequests ?? 0) > 1) out.push({ breach: 'redactedTwice', message: `${id}: REDACTED TWICE (named in ${f.redactionRequests} redaction requests)` });
  if (f.zendesk === 'redacted' && f.goodKeys.length === 0) {
    out.push({ breach: 'redactedUnverified', message: `${id}: REDACTED in Zendesk but not verifiably in S3 (bad keys: ${f.badKeys.join(', ') || 'none'})` });
  }
  if (f.zendesk === 'present') {
    if (!f.reported) out.push({ breach: 'unreported', message: `${id}: still in Zendesk but missing from the report` });
    else if (f.reported.redacted) out.push({ breach: 'misreported', message: `${id}: reported redacted but still in Zendesk` });
  }
  if (f.reported && (f.reported.outcome === 'archived' || f.reported.outcome === 'already_archived')) {
    if (!f.reported.s3Key) out.push({ breach: 'misreported', message: `${id}: reported ${f.reported.outcome} without a key` });
    else if (!f.goodKeys.includes(f.reported.s3Key)) out.push({ breach: 'misreported', message: `${id}: reported ${f.reported.outcome} at ${f.reported.s3Key}, which does not hold the file` });
  }
  return out;
}

/** Every breach of the hard rule, in words (empty when the rule holds). */
export function violationsOf(files: FileVerdict[]): string[] {
  return files.flatMap((f) => breachesOf(f).map((b) => b.message));
}

/** Runs `work` over `items`, `concurrency` at a time, keeping the order (a 3,000-file ticket's checks in seconds). */
export async function inPool<T, R>(items: readonly T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      out[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return out;
}
