/**
 * The fault suite's rig: the unchanged ASL in the local engine (retries and Waits shortened to 0 ms), the sandbox
 * Zendesk with its fault layer, a fauxqs S3 behind a fault proxy, dynalite, and a local server that captures the
 * notifications. One rig per test file (handlers read the environment once); each test seeds its own ticket.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { startFauxqs } from 'fauxqs';
import type { ZapierPayload } from '../../lambdas/notify/format.js';
import { documentOf, runFileReader, type RunDocument } from '../../cli/run.js';
import { withRunFiles } from '../../local/runtime/summary.js';
import { s3Operation, startFaultProxy, type ArmedRule, type FaultProxy, type FaultRule } from '../../local/faults/index.js';
import type { ExecutionRecord, HistoryEvent } from '../../local/runtime/history.js';
import type { LocalRuntime } from '../../local/runtime/local.js';
import { generatedSha256, type GeneratedData, type SandboxZendesk } from '../../local/sandbox/zendesk.js';

export const BUCKET = 'vault-faults';
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export interface CapturedNotification {
  receivedAt: number;
  body: ZapierPayload;
}

export interface FaultRig {
  runtime: LocalRuntime;
  sandbox: SandboxZendesk;
  /** The fault proxy every handler talks to S3 through. */
  s3Proxy: FaultProxy;
  /** A client straight to fauxqs (never faulted): the tests' view of the archive. */
  s3: S3Client;
  notifications: CapturedNotification[];
  /** Runs after every Task handler returned (the engine's afterTask); throw to lose the answer. Reset by clearFaults. */
  afterTask: ((state: string, input: unknown, output: unknown) => void) | undefined;
  /** Runs right before every Task handler, with the input it will get (mutable). Reset by clearFaults. */
  beforeTask: ((state: string, input: unknown) => void | Promise<void>) | undefined;
  close(): Promise<void>;
}

export interface RigOptions {
  /** Extra environment for the handlers (e.g. COPY_PART_SIZE_MB, DOWNLOAD_IDLE_TIMEOUT_SECONDS). */
  env?: Record<string, string>;
  /** A lower history limit (Step Functions' is 25,000 events). */
  historyLimit?: number;
}

async function startCapture(): Promise<{ server: Server; url: string; received: CapturedNotification[] }> {
  const received: CapturedNotification[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        received.push({ receivedAt: Date.now(), body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as ZapierPayload });
      } catch {
        // not JSON: ignored, the assertions will miss it
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/notify`, received };
}

export async function openRig(options: RigOptions = {}): Promise<FaultRig> {
  const saved = { ...process.env };
  const dataDir = await mkdtemp(join(tmpdir(), 'vault-faults-'));
  const fauxqs = await startFauxqs({ port: 0, logger: false });
  const s3Proxy = await startFaultProxy({ target: fauxqs.address, classify: (req) => s3Operation(req) });
  const s3 = new S3Client({ endpoint: fauxqs.address, region: 'us-east-1', forcePathStyle: true, credentials: LOCAL_CREDENTIALS });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const capture = await startCapture();

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ATTACHMENT_VAULT_DATA_DIR: dataDir,
    AWS_ENDPOINT_URL_S3: s3Proxy.url,
    ARCHIVE_BUCKET: BUCKET,
    S3_FORCE_PATH_STYLE: 'true',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    NOTIFY_WEBHOOK_URL: capture.url,
    NOTIFY_FORMAT: 'zapier',
    EXECUTION_CONSOLE_URL: 'attachment-vault executions show {executionName}',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    ...options.env,
  };
  for (const key of ['ZENDESK_URL', 'IDEMPOTENCY_TABLE', 'AWS_ENDPOINT_URL_DYNAMODB', 'NOTIFY_SECRET_ARN', 'ZENDESK_SECRET_ARN', 'SSE_KMS_KEY_ID', 'ARCHIVE_INDEX_TABLE', 'ARCHIVE_AUDIT_TABLE', 'ARCHIVE_INDEX_ENDPOINT_URL']) delete env[key];
  const { openLocal } = await import('../../local/runtime/local.js');
  const rig = { afterTask: undefined, beforeTask: undefined } as FaultRig;
  const runtime = await openLocal({
    env,
    retryIntervalMs: 0,
    waitMs: 0,
    persistS3: false,
    seedDemo: false,
    // The archive index too (the sandbox's data only): the copy step records and finds its verified copies there.
    archiveIndex: true,
    ...(options.historyLimit !== undefined ? { historyLimit: options.historyLimit } : {}),
    afterTask: (state, input, output) => rig.afterTask?.(state, input, output),
    beforeTask: async (state, input) => rig.beforeTask?.(state, input),
  });

  return Object.assign(rig, {
    runtime,
    sandbox: runtime.sandbox!,
    s3Proxy,
    s3,
    notifications: capture.received,
    close: async () => {
      s3.destroy();
      await runtime.close();
      await s3Proxy.close();
      await fauxqs.stop();
      await new Promise<void>((resolve) => capture.server.close(() => resolve()));
      await rm(dataDir, { recursive: true, force: true });
      // Jest reuses the worker process: leave process.env as this file found it.
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    },
  });
}

// ---- Seeding ----

export interface SeededFile {
  attachmentId: number;
  commentId: number;
  size: number;
  /** Lowercase hex SHA-256 of the original bytes. */
  sha256: string;
}

export interface SeededTicket {
  ticketId: string;
  files: SeededFile[];
}

export interface FileSeed {
  fileName: string;
  contentType?: string;
  data: Buffer | GeneratedData;
}

export const sha256 = (bytes: Buffer | Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** A small text file with distinct bytes. */
export function textFile(name: string, text = `contents of ${name}\n`): FileSeed {
  return { fileName: name, contentType: 'text/plain', data: Buffer.from(text) };
}

/**
 * Creates the ticket (tagged vault_archive, as the trigger would leave it) with one comment per entry of
 * `comments`, and remembers every original file's bytes for the invariant.
 */
export async function seedTicket(sandbox: SandboxZendesk, ticketId: number, comments: FileSeed[][]): Promise<SeededTicket> {
  sandbox.createTicket({ id: ticketId, status: 'open', tags: ['vault_archive'] });
  const files: SeededFile[] = [];
  for (const seeds of comments) {
    const comment = sandbox.addComment(ticketId, {
      attachments: seeds.map((s) => ({ fileName: s.fileName, contentType: s.contentType ?? 'application/octet-stream', data: s.data })),
    });
    for (const [i, attachment] of comment.attachments.entries()) {
      const data = seeds[i]!.data;
      files.push({
        attachmentId: attachment.id,
        commentId: comment.id,
        size: attachment.size,
        sha256: Buffer.isBuffer(data) ? sha256(data) : await generatedSha256(data),
      });
    }
  }
  return { ticketId: String(ticketId), files };
}

// ---- Running ----

export interface RunResult {
  record: ExecutionRecord;
  doc: RunDocument;
  /** The notification this execution sent, if any. */
  notification: ZapierPayload | undefined;
}

export function resultOf(rig: FaultRig, record: ExecutionRecord): RunResult {
  // The latest message about this execution (a redriven execution may first have reported its interruption).
  const notification = rig.notifications.findLast((n) => n.body.execution_name === record.executionName)?.body;
  return { record, doc: documentOf(record), notification };
}

let runs = 0;

/** Runs the ticket as the CLI would (a new execution) and waits for the end. */
export async function runTicket(rig: FaultRig, ticketId: string, name = `fault-${ticketId}-${++runs}`): Promise<RunResult> {
  const record = await rig.runtime.engine.run({ ticketId, source: 'cli' }, name);
  return resultOf(rig, await withRunFiles(record, runFileReader(rig.runtime.env)));
}

/** Adds sandbox fault rules (route kinds as in local/sandbox/README.md); `.fired` counts what they did. */
export function zendeskFaults(rig: FaultRig, ...rules: FaultRule[]): ArmedRule[] {
  return rules.map((rule) => rig.sandbox.faults.add(rule));
}

/** Adds S3 fault rules (route = S3 operation name, e.g. 'UploadPart'); `.fired` counts what they did. */
export function s3Faults(rig: FaultRig, ...rules: FaultRule[]): ArmedRule[] {
  return rules.map((rule) => rig.s3Proxy.faults.add(rule));
}

export const firedTotal = (rules: ArmedRule[]): number => rules.reduce((sum, r) => sum + r.fired, 0);

export function clearFaults(rig: FaultRig): void {
  rig.sandbox.faults.clear();
  rig.s3Proxy.faults.clear();
  rig.afterTask = undefined;
  rig.beforeTask = undefined;
}

/** What a crashed Lambda, or one whose answer was lost, looks like to Step Functions. */
export class LambdaUnknown extends Error {
  override readonly name = 'Lambda.Unknown';
}

/** An S3 error answer as S3 sends it (XML body), e.g. s3Error(503, 'SlowDown'). */
export function s3Error(status: number, code: string, when?: 'before' | 'after'): FaultRule['fault'] {
  return {
    kind: 'status',
    ...(when ? { when } : {}),
    status,
    headers: { 'content-type': 'application/xml' },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>injected ${code}</Message><RequestId>FAULT</RequestId></Error>`,
  };
}

// ---- History ----

/** Errors of the execution's failed attempts, as `State: Error` (Map iterations included). */
export function failures(record: ExecutionRecord, state?: string): HistoryEvent[] {
  return record.events.filter((e) => e.type === 'StateFailed' && (state === undefined || e.state === state));
}

export function retries(record: ExecutionRecord, state?: string): HistoryEvent[] {
  return record.events.filter((e) => e.type === 'StateRetried' && (state === undefined || e.state === state));
}

export function entered(record: ExecutionRecord, state: string): HistoryEvent[] {
  return record.events.filter((e) => e.type === 'StateEntered' && e.state === state);
}

// ---- Archive ----

/** Every key under the prefix (all pages: S3 lists at most 1,000 per request). */
export async function keysUnder(rig: FaultRig, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const listed = await rig.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
    keys.push(...(listed.Contents ?? []).map((o) => o.Key!));
    token = listed.IsTruncated ? listed.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

export async function objectBytes(rig: FaultRig, key: string): Promise<Buffer> {
  const response = await rig.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(await response.Body!.transformToByteArray());
}

export async function objectMetadata(rig: FaultRig, key: string): Promise<Record<string, string>> {
  return (await rig.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))).Metadata ?? {};
}

export async function putObject(rig: FaultRig, key: string, body: Buffer, metadata: Record<string, string> = {}): Promise<void> {
  await rig.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, Metadata: metadata }));
}

/** What Zendesk holds now for these files. */
export function zendeskStates(rig: FaultRig, ticket: SeededTicket): Array<'present' | 'redacted' | 'missing'> {
  return ticket.files.map((f) => rig.sandbox.attachment(f.attachmentId)?.state ?? 'missing');
}

/** Per-file outcomes as [outcome, redacted] in seeding order. */
export function outcomes(doc: RunDocument, ticket: SeededTicket): Array<[string | undefined, boolean | undefined]> {
  return ticket.files.map((f) => {
    const entry = doc.summary.attachments.find((a) => a.attachmentId === String(f.attachmentId));
    return [entry?.outcome, entry?.redacted];
  });
}
