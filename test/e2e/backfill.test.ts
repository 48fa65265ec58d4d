/**
 * The backfill end to end, over real HTTP: the sandbox Zendesk, fauxqs (the archive bucket), dynalite (idempotency
 * records and ticket locks, the archive index) and the local engine running statemachine/backfill.asl.json unchanged:
 * SelectTickets, the Distributed Map over the manifest, one per-ticket execution per ticket (startExecution.sync:2,
 * named bf-<runId>-<ticketId>), SummarizeBackfill.
 *
 * 1,010 tickets created in January and February 2024, with one small file each, open to archived; 24 more in the window
 * without files and 15 just outside it with files. The dry run comes first (the projection is of work still to do);
 * then the backfill runs in this process's engine; the dry run and the second backfill of the same window are the
 * `attachment-vault backfill` command (a real process, built by `npm run build`: `npm test` runs it first) pointed at
 * the same Zendesk, bucket and tables.
 *
 * The shared request budget is left out of the two full runs (the test brings its own idempotency table, so none is
 * embedded): it counts real time, and at its highest setting (ZENDESK_REQUESTS_PER_MINUTE 10,000) the runs' 17,000
 * requests would take minutes whatever the machine; test/integration/budget covers it. The dry run has one (its process
 * embeds it), so its reads are taken as backfill traffic.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import dynalite from 'dynalite';
import type { BackfillDocument } from '../../cli/backfill-local.js';
import type { LocalEngine } from '../../local/runtime/engine.js';
import type { LocalRuntime } from '../../local/runtime/local.js';
import type { SandboxZendesk, TicketStatus } from '../../local/sandbox/zendesk.js';

const BIN = resolve('cli/bin/attachment-vault.js');
const SINCE = '2024-01-01';
const UNTIL = '2024-03-01';
const TABLE = 'backfill-e2e-idempotency';
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
const saved = { ...process.env };

interface Seeded {
  id: string;
  createdAt: string;
  attachmentId?: number;
  bytes?: string;
}

let dataDir: string;
let dynamo: Server;
let runtime: LocalRuntime;
let sandbox: SandboxZendesk;
let backfill: LocalEngine;
let s3: S3Client;
let bucket: string;
const inWindow: Seeded[] = [];
const withoutFiles: Seeded[] = [];
const outside: Seeded[] = [];

const STATUSES: Array<TicketStatus | 'archived'> = ['open', 'pending', 'solved', 'closed', 'archived'];

function seed(createdAt: string, status: TicketStatus | 'archived', withFile: boolean): Seeded {
  const t = sandbox.createTicket({ createdAt, ...(status === 'archived' ? { archived: true } : { status }) });
  if (!withFile) {
    sandbox.addComment(t.id, { body: 'nothing attached' });
    return { id: String(t.id), createdAt };
  }
  const bytes = `ticket ${t.id}: its one file\n`;
  const comment = sandbox.addComment(t.id, { attachments: [{ fileName: `t${t.id}.txt`, contentType: 'text/plain', data: Buffer.from(bytes) }] });
  return { id: String(t.id), createdAt, attachmentId: comment.attachments[0]!.id, bytes };
}

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'vault-backfill-'));
  dynamo = dynalite({ createTableMs: 0 });
  await new Promise<void>((done) => dynamo.listen(0, '127.0.0.1', done));
  const dynamoEndpoint = `http://127.0.0.1:${(dynamo.address() as AddressInfo).port}`;
  const ddb = new DynamoDBClient({ endpoint: dynamoEndpoint, region: 'us-east-1', credentials: CREDENTIALS });
  await ddb.send(new CreateTableCommand({ TableName: TABLE, KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }], BillingMode: 'PAY_PER_REQUEST' }));
  ddb.destroy();

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ATTACHMENT_VAULT_DATA_DIR: dataDir,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
    IDEMPOTENCY_TABLE: TABLE,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  };
  for (const key of ['ZENDESK_URL', 'AWS_ENDPOINT_URL_S3', 'ARCHIVE_BUCKET', 'ZENDESK_BUDGET_TABLE', 'NOTIFY_WEBHOOK_URL', 'NOTIFY_SECRET_ARN', 'ZENDESK_SECRET_ARN', 'SSE_KMS_KEY_ID', 'ARCHIVE_INDEX_TABLE', 'ARCHIVE_AUDIT_TABLE', 'ARCHIVE_INDEX_ENDPOINT_URL']) delete env[key];
  const { openLocal } = await import('../../local/runtime/local.js');
  runtime = await openLocal({ env, persistS3: false, seedDemo: false, waitMs: 0, retryIntervalMs: 0 });
  sandbox = runtime.sandbox!;
  bucket = runtime.env.ARCHIVE_BUCKET!;
  s3 = new S3Client({ endpoint: runtime.env.AWS_ENDPOINT_URL_S3, region: 'us-east-1', forcePathStyle: true, credentials: CREDENTIALS });
  const { openBackfillEngine } = await import('../../local/runtime/backfill.js');
  backfill = await openBackfillEngine(runtime.engine, { historyDir: resolve(dataDir, 'executions'), waitMs: 0, retryIntervalMs: 0 });

  // Seeded straight into the sandbox's store: every 80 minutes from the window's first second, a few in the same second.
  const start = Date.parse(`${SINCE}T00:00:00Z`);
  for (let i = 0; i < 1010; i++) {
    const at = start + Math.floor(i / 2) * 2 * 80 * 60_000 + (i % 2) * (i % 10 === 1 ? 0 : 80 * 60_000);
    inWindow.push(seed(iso(at), STATUSES[i % STATUSES.length]!, true));
    if (i % 42 === 0) withoutFiles.push(seed(iso(at), STATUSES[i % STATUSES.length]!, false));
  }
  for (const at of ['2023-12-31T23:59:59Z', `${UNTIL}T00:00:00Z`, '2024-06-01T12:00:00Z']) for (const status of STATUSES) outside.push(seed(at, status, true));
}, 60_000);

afterAll(async () => {
  s3?.destroy();
  await runtime?.close();
  await new Promise<void>((done) => (dynamo ? dynamo.close(() => done()) : done()));
  await rm(dataDir, { recursive: true, force: true });
  for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
  Object.assign(process.env, saved);
});

/** Every object of the bucket under `prefix`, with its ETag and date: what a write would change. */
async function objects(prefix = ''): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
    for (const o of page.Contents ?? []) found.set(o.Key!, `${o.ETag} ${o.LastModified?.toISOString()} ${o.Size}`);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return found;
}

async function text(key: string): Promise<string> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await object.Body?.transformToString('utf8')) ?? '';
}

const archiveKey = (t: Seeded) => `tickets/${t.id}/${t.attachmentId}.txt`;
const byCreated = (tickets: Seeded[]) => [...tickets].sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt) || Number(a.id) - Number(b.id));

/** `attachment-vault backfill …` against this test's Zendesk, bucket and tables. */
function cli(args: string[], extra: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...runtime.env, POWERTOOLS_LOG_LEVEL: 'SILENT' };
  // Its own local Step Functions endpoint, and a budget as configured (not the test's wide one).
  for (const key of ['AWS_ENDPOINT_URL_SFN', 'NODE_OPTIONS', 'ZENDESK_REQUESTS_PER_MINUTE']) delete env[key];
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, 'backfill', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

describe('backfill of January and February 2024', () => {
  test('the dry run writes nothing (no Zendesk write, no object) and prints the projection', async () => {
    const before = await objects();
    sandbox.resetCounts();
    // Its own idempotency table, so its process embeds the request budget too: every read is backfill traffic.
    const result = await cli(['--since', SINCE, '--until', UNTIL, '--dry-run'], { IDEMPOTENCY_TABLE: undefined, AWS_ENDPOINT_URL_DYNAMODB: undefined, ZENDESK_REQUESTS_PER_MINUTE: '2500' });
    expect(result.code).toBe(0);
    // 1,010 tickets of 1 comment and 1 file: 10 requests each (lambdas/shared/zendesk/cost.ts), 11 export pages and
    // 2 windows; at 2,500 requests a minute, half of it for the backfill.
    expect(JSON.parse(result.stdout)).toEqual({ dryRun: true, tickets: 1010, projectedRequests: 10_113, projectedMinutes: 8.1, sampledTickets: 50, requestsPerMinute: 2500, backfillShare: 0.5, windows: 2 });
    expect(sandbox.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    expect(new Set(sandbox.requests.map((r) => r.kind))).toEqual(new Set(['search.export', 'comments.list']));
    expect(await objects()).toEqual(before);
  }, 120_000);

  test('1,010 tickets (open to archived): every file in the window archived and redacted, nothing else touched, each ticket its own bf- execution', async () => {
    sandbox.resetCounts();
    const { backfillDocument } = await import('../../cli/backfill-local.js');
    const record = await backfill.run({ runId: 'e2e1', since: SINCE, until: UNTIL, query: null, maxConcurrency: 20 } as never, 'backfill-e2e1');
    expect([record.status, record.error]).toEqual(['SUCCEEDED', undefined]);
    expect(backfillDocument(record, 'e2e1')).toEqual({ runId: 'e2e1', status: 'SUCCEEDED', tickets: 1010, succeeded: 1010, failed: 0, failedTickets: [], report: { bucket, key: 'backfill/e2e1/report.json' } });

    // The manifest: the window's tickets with files, in created order, IDs and dates only.
    const manifest = await text('backfill/e2e1/tickets.jsonl');
    expect(manifest).toBe(byCreated(inWindow).map((t) => `{"ticketId":"${t.id}","createdAt":"${t.createdAt}"}\n`).join(''));

    // Archived (the original bytes) and redacted, each; the archive holds exactly these files.
    const archive = await objects('tickets/');
    expect([...archive.keys()].sort()).toEqual(inWindow.map(archiveKey).sort());
    for (const t of inWindow.filter((_, i) => i % 25 === 0)) expect(await text(archiveKey(t))).toBe(t.bytes);
    expect(inWindow.filter((t) => sandbox.attachment(t.attachmentId!)!.state !== 'redacted')).toEqual([]);
    expect(sandbox.requestCounts().redaction).toBe(1010);

    // Nothing outside the window, and no ticket without files, was asked about, let alone changed.
    for (const t of outside) expect(sandbox.attachment(t.attachmentId!)!.state).toBe('present');
    const untouched = new Set([...outside, ...withoutFiles].map((t) => t.id));
    expect(sandbox.requests.filter((r) => untouched.has(/\/tickets\/(\d+)/.exec(r.path)?.[1] ?? ''))).toEqual([]);
    expect(sandbox.ticket(Number(inWindow.find((_, i) => i % 5 === 4)!.id))!.archived).toBe(true);

    // One per-ticket execution per ticket, named bf-<runId>-<ticketId>, run to its end.
    const children = (await runtime.engine.history.list()).filter((r) => r.executionName.startsWith('bf-e2e1-'));
    expect(children.map((r) => r.executionName).sort()).toEqual(inWindow.map((t) => `bf-e2e1-${t.id}`).sort());
    expect(children.filter((r) => r.status !== 'SUCCEEDED')).toEqual([]);
    expect(children[0]!.input).toEqual(expect.objectContaining({ ticketId: expect.stringMatching(/^\d+$/), source: 'backfill', runId: 'e2e1' }));
    // The report in the bucket names every ticket's end.
    expect(JSON.parse(await text('backfill/e2e1/report.json'))).toMatchObject({ runId: 'e2e1', status: 'SUCCEEDED', tickets: 1010, succeeded: 1010, failed: 0 });
  }, 240_000);

  test('the same window again (the command): every ticket succeeds, no redaction request is sent, no archive object written', async () => {
    const before = await objects('tickets/');
    sandbox.resetCounts();
    const result = await cli(['--since', SINCE, '--until', UNTIL, '--max-concurrency', '20']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const document = JSON.parse(result.stdout) as BackfillDocument;
    expect(document).toEqual({ runId: expect.stringMatching(/^\d{8}T\d{6}-[0-9a-f]{4}$/), status: 'SUCCEEDED', tickets: 1010, succeeded: 1010, failed: 0, failedTickets: [], report: { bucket, key: `backfill/${document.runId}/report.json` } });
    expect(sandbox.requestCounts().redaction).toBe(0);
    expect(sandbox.requestCounts().legacy_redaction).toBe(0);
    expect(sandbox.requestCounts().download).toBe(0);
    expect(await objects('tickets/')).toEqual(before);
    const children = (await runtime.engine.history.list()).filter((r) => r.executionName.startsWith(`bf-${document.runId}-`));
    expect(children).toHaveLength(1010);
  }, 240_000);

  test('usage errors exit 2 before anything starts', async () => {
    for (const args of [['--since', '2024-13-01'], ['--since', UNTIL, '--until', SINCE], ['--max-concurrency', '0'], ['--query', 'created>2020-01-01'], ['start']]) {
      const result = await cli(args);
      expect([args, result.code, result.stdout]).toEqual([args, 2, '']);
    }
  }, 60_000);
});
