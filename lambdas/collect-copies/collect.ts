import { countOutcomes, parseAttachmentRefs, parseCopyResult, parseCopyResults } from '../shared/copies.js';
import { InvalidInput } from '../shared/errors.js';
import { parseRunFileRef, type RunFileRef, type RunFiles } from '../shared/run-files.js';
import { isRecord } from '../shared/step.js';
import type { AttachmentRef, CopiesState, CopyResult } from '../shared/types.js';

/**
 * Between the copy fan-out and the redaction: every file's copy outcome, from either Map, into the run's copies.json;
 * the state keeps counts and the pointer. The inline Map hands its results in the state; the Distributed Map's
 * ResultWriter leaves them in S3 (`{MapRunArn, ResultWriterDetails: {Bucket, Key}}` points at its manifest.json,
 * which lists the SUCCEEDED_n.json files of `{Input, Output, ...}` entries, Output a JSON string).
 *
 * Every listed attachment must have exactly one result, in the listing's order: a file missing from the results would
 * be missing from the report, so this is InvalidInput rather than a smaller summary.
 */

export interface CollectInput {
  ticketId: string;
  executionName: string;
  /** ListAttachments' result: `attachments` inline, or `manifest` (attachments.json). */
  listing: unknown;
  /** The Map's result: the array of copy results, or the ResultWriter's details. */
  copied: unknown;
}

async function listed(listing: unknown, files: RunFiles): Promise<AttachmentRef[]> {
  if (!isRecord(listing)) throw new InvalidInput('listing must be ListAttachments\' result');
  if (listing.manifest !== undefined) return parseAttachmentRefs(await files.read(parseRunFileRef(listing.manifest, files.bucket, 'listing.manifest')));
  return parseAttachmentRefs(listing.attachments);
}

/** The Distributed Map's results: every SUCCEEDED file of its manifest, each entry's Output parsed. */
async function mapRunResults(copied: Record<string, unknown>, files: RunFiles): Promise<CopyResult[]> {
  const details = copied.ResultWriterDetails;
  if (!isRecord(details)) throw new InvalidInput('copied must be the inline Map\'s results or the ResultWriter\'s details');
  const manifest = await files.read(parseRunFileRef({ bucket: details.Bucket, key: details.Key }, files.bucket, 'copied.ResultWriterDetails'));
  const resultFiles = isRecord(manifest) && isRecord(manifest.ResultFiles) ? manifest.ResultFiles : undefined;
  if (!resultFiles || !Array.isArray(resultFiles.SUCCEEDED)) throw new InvalidInput('the Map Run manifest lists no SUCCEEDED results');
  const copies: CopyResult[] = [];
  for (const entry of resultFiles.SUCCEEDED as unknown[]) {
    const ref: RunFileRef = parseRunFileRef({ bucket: files.bucket, key: isRecord(entry) ? entry.Key : undefined }, files.bucket, 'a Map Run result file');
    const results = await files.read(ref);
    if (!Array.isArray(results)) throw new InvalidInput(`${ref.key} is not an array of results`);
    for (const result of results) {
      if (!isRecord(result) || typeof result.Output !== 'string') throw new InvalidInput(`${ref.key} holds a result without Output`);
      copies.push(parseCopyResult(JSON.parse(result.Output)));
    }
  }
  return copies;
}

/** The copies in the listing's order; InvalidInput when one is missing, repeated or not listed. */
function inListingOrder(attachments: AttachmentRef[], copies: CopyResult[]): CopyResult[] {
  const byId = new Map<number, CopyResult>();
  for (const copy of copies) {
    if (byId.has(copy.attachmentId)) throw new InvalidInput(`attachment ${copy.attachmentId} has two copy results`);
    byId.set(copy.attachmentId, copy);
  }
  const ordered = attachments.map((a) => {
    const copy = byId.get(a.attachmentId);
    if (!copy) throw new InvalidInput(`attachment ${a.attachmentId} has no copy result`);
    return copy;
  });
  if (ordered.length !== byId.size) throw new InvalidInput(`${byId.size - ordered.length} copy results are of attachments the listing does not have`);
  return ordered;
}

export async function collectCopies(input: CollectInput, deps: { files: RunFiles }): Promise<CopiesState> {
  const attachments = await listed(input.listing, deps.files);
  const results = Array.isArray(input.copied)
    ? parseCopyResults(input.copied)
    : isRecord(input.copied)
      ? await mapRunResults(input.copied, deps.files)
      : [];
  const copies = inListingOrder(attachments, results);
  const file = await deps.files.write(input.executionName, 'copies', copies);
  return { file, count: copies.length, counts: countOutcomes(copies) };
}
