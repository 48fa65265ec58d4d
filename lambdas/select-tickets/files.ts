import { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { archiveWriterSettings } from '../shared/archive.js';
import { backfillManifestKey, backfillPartsPrefix, backfillSelectionKey } from '../shared/backfill-files.js';
import type { Env } from '../shared/config.js';
import { logger } from '../shared/logger.js';
import { archiveUnavailable, createS3Client, isS3NotFound } from '../shared/s3.js';
import { groupParts, mergeSorted, parsePartName, partName, type PartName } from './merge.js';
import { keyOfLine, lineOf, type TicketKey } from './order.js';

/**
 * SelectTickets' files in the archive bucket (lambdas/shared/backfill-files.ts): the sorted parts it writes while it
 * pages, the manifest it joins them into, and the marker written after the manifest. S3 failures are
 * ArchiveUnavailable (the ASL retries the step); writes use SSE_KMS_KEY_ID when set, like the run files.
 */

export interface SelectionMarker {
  /** The selection this manifest was joined from (SelectTickets' progress.selection). */
  selection: string;
  tickets: number;
  windows: number;
}

export interface SelectionFiles {
  readonly bucket: string;
  /** Deletes every part of the run (a new selection starts clean). */
  clearParts(runId: string): Promise<void>;
  /** Writes one part: keys sorted, each once, at least one. */
  writePart(runId: string, selection: string, seq: number, keys: readonly TicketKey[]): Promise<void>;
  /** Joins the selection's parts into backfill/{runId}/tickets.jsonl; the number of lines written. */
  joinParts(runId: string, selection: string): Promise<number>;
  readMarker(runId: string): Promise<SelectionMarker | undefined>;
  writeMarker(runId: string, marker: SelectionMarker): Promise<void>;
  /** Deletes the selection's parts; failures are logged, not raised (the manifest is already complete). */
  deleteParts(runId: string, selection: string): Promise<void>;
}

const JOIN_PART_BYTES = 5 * 1024 * 1024;

async function* linesOf(body: Readable): AsyncGenerator<TicketKey> {
  for await (const line of createInterface({ input: body, crlfDelay: Infinity })) {
    if (line === '') continue;
    const key = keyOfLine(line);
    if (key) yield key;
  }
}

/** Listing, deleting and reading objects of the bucket, with S3 failures as ArchiveUnavailable. */
function bucketOps(s3: S3Client, bucket: string) {
  async function list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      try {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
        keys.push(...(page.Contents ?? []).map((o) => o.Key).filter((k): k is string => typeof k === 'string'));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } catch (error) {
        throw archiveUnavailable('ListObjectsV2', error);
      }
    } while (token);
    return keys;
  }

  /** Deletes in batches of 1,000; a failure is logged only (a part left behind is never read by another selection). */
  async function remove(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000).map((Key) => ({ Key }));
      try {
        const result = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch, Quiet: true } }));
        if (result.Errors?.length) logger.warn('some selection parts were not deleted', { failed: result.Errors.length });
      } catch (error) {
        logger.warn('selection parts were not deleted', { error: archiveUnavailable('DeleteObjects', error).message });
      }
    }
  }

  async function open(key: string): Promise<Readable> {
    try {
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return object.Body as Readable;
    } catch (error) {
      throw archiveUnavailable('GetObject', error);
    }
  }

  /** Every line of the manifest, group after group of overlapping parts. */
  async function* merged(groups: PartName[][], counter: { lines: number }): AsyncGenerator<string> {
    for (const group of groups) {
      const bodies = await Promise.all(group.map((part) => open(part.key)));
      const chunk: string[] = [];
      for await (const key of mergeSorted(bodies.map(linesOf))) {
        counter.lines += 1;
        chunk.push(`${lineOf(key)}\n`);
        if (chunk.length >= 1000) yield chunk.splice(0).join('');
      }
      if (chunk.length > 0) yield chunk.join('');
    }
  }

  return { list, remove, merged };
}

export function selectionFiles(s3: S3Client, bucket: string, sseKmsKeyId?: string): SelectionFiles {
  const encryption = sseKmsKeyId ? { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: sseKmsKeyId } : {};
  const { list, remove, merged } = bucketOps(s3, bucket);

  return {
    bucket,
    async clearParts(runId) {
      await remove(await list(backfillPartsPrefix(runId)));
    },
    async writePart(runId, selection, seq, keys) {
      const key = partName(backfillPartsPrefix(runId, selection), keys[0]!, keys[keys.length - 1]!, seq);
      const body = keys.map((k) => `${lineOf(k)}\n`).join('');
      try {
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/x-ndjson', ...encryption }));
      } catch (error) {
        throw archiveUnavailable('PutObject', error);
      }
    },
    async joinParts(runId, selection) {
      const prefix = backfillPartsPrefix(runId, selection);
      const parts = (await list(prefix)).map((key) => parsePartName(prefix, key)).filter((p): p is PartName => p !== undefined);
      const counter = { lines: 0 };
      const params = { Bucket: bucket, Key: backfillManifestKey(runId), ContentType: 'application/x-ndjson', ...encryption };
      try {
        await new Upload({ client: s3, params: { ...params, Body: Readable.from(merged(groupParts(parts), counter)) }, partSize: JOIN_PART_BYTES, queueSize: 1, leavePartsOnError: false }).done();
      } catch (error) {
        throw error instanceof Error && error.name === 'ArchiveUnavailable' ? error : archiveUnavailable('upload', error);
      }
      return counter.lines;
    },
    async readMarker(runId) {
      try {
        const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: backfillSelectionKey(runId) }));
        const marker = JSON.parse((await object.Body?.transformToString('utf8')) ?? '') as Partial<SelectionMarker>;
        const ok = typeof marker.selection === 'string' && Number.isSafeInteger(marker.tickets) && Number.isSafeInteger(marker.windows);
        return ok ? (marker as SelectionMarker) : undefined;
      } catch (error) {
        if (isS3NotFound(error) || error instanceof SyntaxError) return undefined;
        throw archiveUnavailable('GetObject', error);
      }
    },
    async writeMarker(runId, marker) {
      try {
        const body = JSON.stringify(marker);
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: backfillSelectionKey(runId), Body: body, ContentType: 'application/json', ...encryption }));
      } catch (error) {
        throw archiveUnavailable('PutObject', error);
      }
    },
    async deleteParts(runId, selection) {
      try {
        await remove(await list(backfillPartsPrefix(runId, selection)));
      } catch (error) {
        logger.warn('selection parts were not listed for deletion', { error: (error as Error).message });
      }
    },
  };
}

/** The selection's files in this deployment's archive bucket (ARCHIVE_BUCKET, SSE_KMS_KEY_ID). */
export function selectionFilesFromEnv(env: Env = process.env): SelectionFiles {
  const settings = archiveWriterSettings(env);
  return selectionFiles(createS3Client(settings), settings.bucket, settings.sseKmsKeyId);
}
