import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { archiveWriterSettings } from './archive.js';
import type { Env } from './config.js';
import { InvalidInput } from './errors.js';
import { archiveUnavailable, createS3Client, isS3NotFound } from './s3.js';
import { isRecord } from './step.js';

/**
 * A run's working files: per-file lists that grow with the ticket live in the archive bucket, not in the execution's
 * state (Step Functions caps every state's input and output at 256 KiB: docs/design.md#limits). The state carries
 * counts and a pointer `{bucket, key}`; the steps write and read the files.
 *
 *   runs/{executionName}/attachments.json  ListAttachments, for a ticket too large for the inline Map
 *   runs/{executionName}/copies.json       CollectCopies: every file's copy outcome
 *   runs/{executionName}/redaction.json    RedactVerified: every file's redaction record, rewritten each pass
 *   runs/{executionName}/summary.json      FinishTicket: the whole per-file summary
 *   runs/map-results/{mapRunId}/...        the Distributed Map's ResultWriter
 *
 * Like state data they hold IDs, sizes, types, keys, hashes and outcomes only: never a file name or a URL. The
 * bucket's default encryption (the archive key) applies; a lifecycle rule expires `runs/` (infra/constructs/archive.ts).
 * A redriven execution has the same name, so it reads and rewrites the same files.
 */

export const RUNS_PREFIX = 'runs';

export type RunFileName = 'attachments' | 'copies' | 'redaction' | 'summary';

/** Where a run file is: what the state carries instead of the list. */
export interface RunFileRef {
  bucket: string;
  key: string;
}

const EXECUTION_NAME = /^[0-9A-Za-z_-]{1,80}$/;
const RUN_KEY = /^runs\/[0-9A-Za-z_-]{1,80}\/[a-z]+\.json$|^runs\/map-results\/[0-9A-Za-z_./:-]{1,900}\.json$/;
/** The backfill's files: backfill/<runId>/tickets.jsonl and report.json, and its Map Run's results. */
const BACKFILL_KEY = /^backfill\/[0-9A-Za-z_-]{1,40}\/[a-z-]+\.jsonl?$|^backfill\/map-results\/[0-9A-Za-z_./:-]{1,900}\.json$/;

export function runFileKey(executionName: string, name: RunFileName): string {
  if (!EXECUTION_NAME.test(executionName)) throw new InvalidInput('executionName must be a Step Functions execution name');
  return `${RUNS_PREFIX}/${executionName}/${name}.json`;
}

/**
 * A pointer from the state, checked before anything is read: the archive's own bucket and a key under `runs/`
 * (state data can be forged; a pointer must not make a step read an archived file or another bucket).
 */
export function parseRunFileRef(value: unknown, bucket: string, field: string): RunFileRef {
  if (!isRecord(value) || typeof value.bucket !== 'string' || typeof value.key !== 'string') {
    throw new InvalidInput(`${field} must be {bucket, key}`);
  }
  if (value.bucket !== bucket) throw new InvalidInput(`${field}.bucket must be the archive bucket`);
  if (!(RUN_KEY.test(value.key) || BACKFILL_KEY.test(value.key)) || value.key.includes('..')) throw new InvalidInput(`${field}.key must be a run file under runs/ or backfill/`);
  return { bucket: value.bucket, key: value.key };
}

export interface RunFiles {
  readonly bucket: string;
  /** Writes `runs/{executionName}/{name}.json`; S3 failures are ArchiveUnavailable (retried by the ASL). */
  write(executionName: string, name: RunFileName, value: unknown): Promise<RunFileRef>;
  /** Reads and parses a run file; a missing one is InvalidInput (the state points at nothing), S3 failures retried. */
  read(ref: RunFileRef): Promise<unknown>;
  /** Writes a backfill file (`backfill/<runId>/<name>`) as JSON. */
  writeBackfill(runId: string, name: string, value: unknown): Promise<RunFileRef>;
}

export function runFiles(s3: S3Client, bucket: string, sseKmsKeyId?: string): RunFiles {
  /** One JSON document, encrypted with SSE_KMS_KEY_ID when set; S3 failures are ArchiveUnavailable. */
  async function put(key: string, value: unknown): Promise<RunFileRef> {
    try {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: JSON.stringify(value),
          ContentType: 'application/json',
          ...(sseKmsKeyId ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: sseKmsKeyId } : {}),
        }),
      );
    } catch (error) {
      throw archiveUnavailable('PutObject', error);
    }
    return { bucket, key };
  }

  return {
    bucket,
    write: (executionName, name, value) => put(runFileKey(executionName, name), value),
    async writeBackfill(runId, name, value) {
      const key = `backfill/${runId}/${name}`;
      if (!BACKFILL_KEY.test(key)) throw new InvalidInput('runId and name must make a backfill file key');
      return put(key, value);
    },
    async read(ref) {
      let text: string;
      try {
        const object = await s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
        text = (await object.Body?.transformToString('utf8')) ?? '';
      } catch (error) {
        if (isS3NotFound(error)) throw new InvalidInput(`run file ${ref.key} does not exist`);
        throw archiveUnavailable('GetObject', error);
      }
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new InvalidInput(`run file ${ref.key} is not JSON`);
      }
    },
  };
}

/** The run files of this deployment: ARCHIVE_BUCKET (and SSE_KMS_KEY_ID), through the archive's S3 client settings. */
export function runFilesFromEnv(env: Env = process.env): RunFiles {
  const settings = archiveWriterSettings(env);
  return runFiles(createS3Client(settings), settings.bucket, settings.sseKmsKeyId);
}
