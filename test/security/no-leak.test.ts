/**
 * Issue 7, "nothing leaks": whole runs of the real workflow (the unchanged ASL in the local engine, every handler
 * in-process, the sandbox Zendesk, fauxqs S3, dynalite) with hostile files, while every channel a person could
 * later read is captured:
 *
 * | Channel                         | Captured from                                                     |
 * |---------------------------------|-------------------------------------------------------------------|
 * | logs                            | process.stdout/stderr.write (the Powertools Logger) and console.* |
 * | execution history               | the engine's onEvent (every state input/output), <data>/executions |
 * | CLI documents                   | the RunDocument `attachment-vault run` prints                     |
 * | notifications                   | the bodies a local capture server received at NOTIFY_WEBHOOK_URL   |
 * | webhook responses               | what `attachment-vault serve` answered                            |
 * | idempotency records             | a scan of the DynamoDB table                                      |
 * | S3 keys and metadata            | ListObjectsV2 + HeadObject                                        |
 * | the runs' working files         | GetObject of every runs/ object (lists of IDs, keys, outcomes)   |
 *
 * None may contain a credential (OAuth client secret, issued access token, API token, webhook signing secret), the
 * notification URL, a content/token/signed URL, an original file name (raw, JSON-escaped, percent-encoded, or its
 * random marker; S3 metadata may hold the percent-encoded name) or file bytes (32-byte random markers).
 * A failure lists each (channel, value) with a redacted excerpt. The same runs also prove the download boundary
 * (docs/zendesk.md#downloads-and-redirects) end to end: credentials go to the Zendesk origin only; an off-origin content_url or a redirect
 * off the allowed hosts is skipped without any request to that host; a file over MAX_ATTACHMENT_MB is never
 * fetched; a body longer or shorter than `size` is never verified, archived or redacted.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client, type HeadObjectCommandOutput } from '@aws-sdk/client-s3';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { Server } from 'node:http';
import type { LocalRuntime } from '../../local/runtime/local.js';
import type { RunDocument } from '../../cli/run.js';
import type { AttachmentSeed, SandboxZendesk } from '../../local/sandbox/zendesk.js';
import type { ExecutionRecord } from '../../local/runtime/history.js';
import {
  assertNoLeaks,
  captureFetch,
  captureOutput,
  startRecorder,
  type Channel,
  type FetchCapture,
  type Needle,
  type OutputCapture,
  type Recorder,
} from './capture.js';

const secret = () => randomBytes(24).toString('base64url');
const marker = () => `nm${randomBytes(8).toString('hex')}`;

const SECRETS = {
  oauthClientId: 'attachment_vault_security_test',
  oauthClientSecret: secret(),
  email: 'vault-security@sandbox.example',
  apiToken: secret(),
  webhookSecret: secret(),
  notifyPath: `/services/T${secret()}/B${secret()}/${secret()}`,
};

const TICKET = { hostile: 7001, offOrigin: 7002, offHostRedirect: 7003, badBodies: 7004, tooLarge: 7005, webhook: 7006, echoingHost: 7007 } as const;
const UNKNOWN_TICKET = '7999999';
const MAX_ATTACHMENT_MB = 1;

// ---- What must never leak ----

const secretNeedles: Needle[] = [];
const urlNeedles: Needle[] = [];
/** Raw and JSON-escaped names: forbidden everywhere. */
const nameNeedles: Needle[] = [];
/** Percent-encoded names and their markers: forbidden everywhere except S3 object metadata. */
const encodedNameNeedles: Needle[] = [];
const byteNeedles: Needle[] = [];

function add(list: Needle[], label: string, value: string): void {
  if (value && !list.some((n) => n.value === value)) list.push({ label, value });
}

interface HostileFile {
  label: string;
  seed: AttachmentSeed;
}

/** A file whose name and bytes are registered as forbidden: the name carries its own random marker. */
function hostileFile(label: string, fileName: string, options: { nameMarker?: string; contentType?: string; data?: AttachmentSeed['data'] } = {}): HostileFile {
  add(nameNeedles, `file name (${label})`, fileName);
  add(nameNeedles, `file name (${label}) JSON-escaped`, JSON.stringify(fileName).slice(1, -1));
  add(encodedNameNeedles, `file name (${label}) percent-encoded`, encodeURIComponent(fileName.toWellFormed()));
  if (options.nameMarker) add(encodedNameNeedles, `file name (${label}) marker`, options.nameMarker);
  let data = options.data;
  if (!data) {
    const bytes = randomBytes(32);
    data = Buffer.concat([Buffer.from(`hostile test file ${label}\nBYTES ${bytes.toString('hex')}\n`), bytes]);
    add(byteNeedles, `file bytes (${label}) hex marker`, bytes.toString('hex'));
    add(byteNeedles, `file bytes (${label}) base64 marker`, bytes.toString('base64'));
    add(byteNeedles, `file bytes (${label}) whole file base64`, data.toString('base64'));
    add(byteNeedles, `file bytes (${label}) whole file hex`, data.toString('hex'));
  }
  return { label, seed: { fileName, contentType: options.contentType ?? 'application/octet-stream', data } };
}

/** A hostile name around a random marker; `contentType` may be built from the name. */
function named(
  label: string,
  build: (m: string) => string,
  options: { contentType?: (name: string) => string; data?: AttachmentSeed['data'] } = {},
): HostileFile {
  const m = marker();
  const name = build(m);
  return hostileFile(label, name, { nameMarker: m, ...(options.data ? { data: options.data } : {}), ...(options.contentType ? { contentType: options.contentType(name) } : {}) });
}

const longMarker = marker();
const HOSTILE = [
  hostileFile('path traversal', '../../etc/passwd'),
  // Mail clients put the name into the type (`application/pdf; name="..."`): that declared type must not carry it on.
  named('windows traversal', (m) => `..\\..\\${m}\\boot.ini`, { contentType: (name) => `application/octet-stream; name="${name}"` }),
  named('control characters', (m) => `ctl\u0000\u0007\u001b[31m${m}\r\n\t.pdf`),
  named('RTL override', (m) => `invoice-${m}\u202Efdp.exe`),
  hostileFile('1,000 characters', `${longMarker}-${'x'.repeat(1000 - longMarker.length - 5)}.pdf`, { nameMarker: longMarker }),
  named('invalid UTF-8 replaced', (m) => `r\uFFFDsum\uFFFD-${m}-\uFFFD.docx`),
];

const OFF_ORIGIN = named('off-origin content_url', (m) => `passport-${m}.pdf`);
const OFF_HOST_REDIRECT = named('redirect off the allowed hosts', (m) => `payslip-${m}.pdf`);
const TRUNCATED = named('truncated download', (m) => `truncated-${m}.pdf`);
const LONGER = named('body longer than size', (m) => `longer-${m}.pdf`);
const SHORTER = named('body shorter than size', (m) => `shorter-${m}.pdf`);
const TOO_LARGE = named('over MAX_ATTACHMENT_MB', (m) => `huge-${m}.bin`, {
  data: { size: Math.floor(MAX_ATTACHMENT_MB * 1.5 * 1024 * 1024), seed: 7005, head: 'too large\n' },
});
const ECHOED = named('content host error echoing the request', (m) => `statement-${m}.pdf`);
const WEBHOOK_FILES = [
  named('script tag', (m) => `<script>alert(1)</script>-${m}.html`),
  named('Slack mention', (m) => `<!channel> <@U123> *${m}*.txt`),
];

// ---- The run ----

let dataDir: string;
let sandbox: SandboxZendesk;
let runtime: LocalRuntime;
let output: OutputCapture;
let outbound: FetchCapture;
let notifyServer: Recorder;
let evil: Recorder;
let webhookServer: Server | undefined;
const events: Array<{ execution: string; json: string }> = [];
const documents: Array<{ scenario: string; document: RunDocument }> = [];
const webhookResponses: Array<{ scenario: string; status: number; headers: string; body: string }> = [];
const accessTokens: string[] = [];
const ids: Record<string, number> = {};
const tokens: Record<string, string> = {};
let historyFiles: Array<{ name: string; text: string }> = [];
let s3Objects: Array<{ key: string; head: HeadObjectCommandOutput }> = [];
/** The runs' working files (runs/…): their whole contents. */
let runFileTexts: Array<{ name: string; text: string }> = [];
let idempotencyItems: string[] = [];
let documentOf: (record: ExecutionRecord) => RunDocument;

function seedTicket(ticketId: number, files: HostileFile[]): void {
  sandbox.createTicket({ id: ticketId, status: 'open', tags: ['vault_archive'] });
  const comment = sandbox.addComment(ticketId, { attachments: files.map((f) => f.seed) });
  comment.attachments.forEach((attachment, i) => {
    const label = files[i]!.label;
    ids[label] = attachment.id;
    const token = /\/attachments\/token\/([^/]+)\//.exec(attachment.contentUrl)?.[1];
    if (token) {
      tokens[label] = token;
      add(urlNeedles, `attachment token (${label})`, token);
    }
    add(urlNeedles, `content_url (${label})`, attachment.contentUrl);
  });
}

async function run(scenario: string, ticketId: string): Promise<RunDocument> {
  const { runTicket } = await import('../../cli/run.js');
  const document = await runTicket(runtime, ticketId);
  documents.push({ scenario, document });
  sandbox.faults.clear();
  return document;
}

function doc(scenario: string): RunDocument {
  const found = documents.find((d) => d.scenario === scenario);
  if (!found) throw new Error(`no run for ${scenario}`);
  return found.document;
}

function fileOutcome(scenario: string, label: string) {
  return doc(scenario).summary.attachments.find((a) => a.attachmentId === String(ids[label]));
}

/** Headers as Zendesk sends them; signature = base64(HMAC-SHA256(secret, timestamp + body)) (docs/zendesk.md#signature). */
function webhookHeaders(body: string, timestamp: string, signingSecret: string, invocationId: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-zendesk-account-id': sandbox.accountId,
    'x-zendesk-webhook-id': '01SECURITYTESTWEBHOOK0000',
    'x-zendesk-webhook-invocation-id': invocationId,
    'x-zendesk-webhook-signature-timestamp': timestamp,
    'x-zendesk-webhook-signature': createHmac('sha256', signingSecret).update(timestamp + body).digest('base64'),
  };
}

async function post(url: string, headers: Record<string, string>, body: string, scenario: string) {
  const response = await fetch(url, { method: 'POST', headers, body });
  const text = await response.text();
  webhookResponses.push({ scenario, status: response.status, headers: JSON.stringify([...response.headers]), body: text });
  return { status: response.status, body: text };
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'vault-security-'));
  // The receiver refuses one ticket's message with an error page that echoes the (secret) request URL.
  notifyServer = await startRecorder((request) =>
    request.body.includes(`Ticket ${TICKET.badBodies}:`) ? { status: 500, body: `<html>no_service for POST ${request.url}</html>` } : { status: 200, body: 'ok' },
  );
  // Answers like a content host would, so that a request that should never happen would also "succeed".
  evil = await startRecorder(() => ({ status: 200, headers: { 'content-type': 'application/octet-stream' }, body: Buffer.alloc(256, 0x41) }));

  output = captureOutput();
  outbound = captureFetch({
    when: (request) => new URL(request.url).pathname === '/oauth/tokens',
    read: async (_request, response) => {
      const body = (await response.json().catch(() => ({}))) as { access_token?: string };
      if (body.access_token) accessTokens.push(body.access_token);
    },
  });

  const { startSandboxZendesk } = await import('../../local/sandbox/zendesk.js');
  sandbox = await startSandboxZendesk({
    auth: { oauthClientId: SECRETS.oauthClientId, oauthClientSecret: SECRETS.oauthClientSecret, email: SECRETS.email, apiToken: SECRETS.apiToken },
  });

  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) {
    if (/^(ZENDESK_|NOTIFY_|POWERTOOLS_|AWS_ENDPOINT_URL|EXECUTION_CONSOLE_URL)/.test(key) || /_SECRET_ARN$/.test(key)) delete env[key];
  }
  for (const key of ['ARCHIVE_BUCKET', 'IDEMPOTENCY_TABLE', 'AWS_LAMBDA_LOG_LEVEL', 'MAX_ATTACHMENT_MB', 'SSE_KMS_KEY_ID']) delete env[key];
  Object.assign(env, {
    ATTACHMENT_VAULT_DATA_DIR: dataDir,
    ZENDESK_URL: sandbox.url,
    ZENDESK_CONTENT_HOSTS: sandbox.contentOrigin,
    // OAuth wins (credentials.ts); the API token is set too, as a canary for anything that dumps the environment.
    ZENDESK_OAUTH_CLIENT_ID: SECRETS.oauthClientId,
    ZENDESK_OAUTH_CLIENT_SECRET: SECRETS.oauthClientSecret,
    ZENDESK_EMAIL: SECRETS.email,
    ZENDESK_API_TOKEN: SECRETS.apiToken,
    ZENDESK_WEBHOOK_SECRET: SECRETS.webhookSecret,
    NOTIFY_WEBHOOK_URL: `${notifyServer.origin}${SECRETS.notifyPath}`,
    NOTIFY_FORMAT: 'slack',
    NOTIFY_RETRY_LIMIT: '0',
    // Every line the code can write, debug included.
    POWERTOOLS_LOG_LEVEL: 'DEBUG',
    MAX_ATTACHMENT_MB: String(MAX_ATTACHMENT_MB),
  });

  const { openLocal } = await import('../../local/runtime/local.js');
  ({ documentOf } = await import('../../cli/run.js'));
  runtime = await openLocal({
    env,
    retryIntervalMs: 0,
    waitMs: 0,
    persistS3: false,
    seedDemo: false,
    onEvent: (event, execution) => events.push({ execution, json: JSON.stringify(event) }),
  });

  // 1. Hostile names, happy path.
  seedTicket(TICKET.hostile, HOSTILE);
  await run('hostile names', String(TICKET.hostile));

  // 2. The fresh attachment read returns a content_url on another host (with a token-looking path).
  seedTicket(TICKET.offOrigin, [OFF_ORIGIN]);
  const original = sandbox.comments(TICKET.offOrigin)[0]!.attachments[0]!;
  const evilContentUrl = `${evil.origin}/attachments/token/${secret()}/?name=${encodeURIComponent(OFF_ORIGIN.seed.fileName)}`;
  add(urlNeedles, 'off-origin content_url', evilContentUrl);
  sandbox.faults.add({
    name: 'off-origin content_url',
    match: { method: 'GET', route: new RegExp(`^/api/v2/attachments/${original.id}(\\.json)?$`), times: Infinity },
    fault: { kind: 'status', status: 200, body: { attachment: { ...original, content_url: evilContentUrl, mapped_content_url: evilContentUrl } } },
  });
  await run('off-origin content_url', String(TICKET.offOrigin));

  // 3. The token URL redirects to a host that is not an allowed content host.
  seedTicket(TICKET.offHostRedirect, [OFF_HOST_REDIRECT]);
  const evilLocation = `${evil.origin}/attachment/${ids[OFF_HOST_REDIRECT.label]}?token=${secret()}`;
  add(urlNeedles, 'off-host redirect Location', evilLocation);
  sandbox.faults.add({
    name: 'redirect off the allowed hosts',
    match: { route: new RegExp(`^/attachments/token/${tokens[OFF_HOST_REDIRECT.label]}/?$`), times: Infinity },
    fault: { kind: 'status', status: 302, headers: { location: evilLocation }, body: 'redirecting' },
  });
  await run('redirect off the allowed hosts', String(TICKET.offHostRedirect));

  // 4. Bodies that do not match `size`: cut mid-body, longer, shorter (well-formed, Content-Length honest).
  seedTicket(TICKET.badBodies, [TRUNCATED, LONGER, SHORTER]);
  const contentPath = (label: string) => new RegExp(`^/attachment/${ids[label]}$`);
  sandbox.faults.add({ name: 'truncate', match: { route: contentPath(TRUNCATED.label), times: Infinity }, fault: { kind: 'truncate', afterBytes: 20 } });
  sandbox.faults.add({ name: 'longer', match: { route: contentPath(LONGER.label), times: Infinity }, fault: { kind: 'lengthMismatch', extraBytes: 7 } });
  sandbox.faults.add({ name: 'shorter', match: { route: contentPath(SHORTER.label), times: Infinity }, fault: { kind: 'lengthMismatch', extraBytes: -7 } });
  await run('bodies that do not match size', String(TICKET.badBodies));

  // 5. Over MAX_ATTACHMENT_MB.
  seedTicket(TICKET.tooLarge, [TOO_LARGE]);
  await run('over MAX_ATTACHMENT_MB', String(TICKET.tooLarge));

  // 6. The content host refuses with an error body that echoes the signed URL and the file name (as S3 and CDNs do).
  seedTicket(TICKET.echoingHost, [ECHOED]);
  sandbox.faults.add({
    name: 'echoing 403',
    match: { route: contentPath(ECHOED.label), times: Infinity },
    fault: {
      kind: 'status',
      status: 403,
      headers: { 'content-type': 'application/xml' },
      body: `<Error><Code>AccessDenied</Code><Resource>${sandbox.contentOrigin}/attachment/${ids[ECHOED.label]}?token=x</Resource><Key>${ECHOED.seed.fileName}</Key><Token>${tokens[ECHOED.label]}</Token></Error>`,
    },
  });
  await run('content host error echoing the request', String(TICKET.echoingHost));

  // 7. A ticket that does not exist.
  await run('unknown ticket', UNKNOWN_TICKET);

  // 8. A signed webhook through `attachment-vault serve`, plus a forged one.
  seedTicket(TICKET.webhook, WEBHOOK_FILES);
  const { startWebhookServer } = await import('../../cli/serve.js');
  const started = await startWebhookServer(runtime, { port: 0, host: '127.0.0.1' });
  webhookServer = started.server;
  const timestamp = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const body = JSON.stringify({ ticket_id: String(TICKET.webhook), updated_at: timestamp });
  const forged = await post(started.url, webhookHeaders(body, timestamp, secret(), '9000000002'), body, 'forged webhook');
  expect(forged.status).toBe(401);
  const accepted = await post(started.url, webhookHeaders(body, timestamp, SECRETS.webhookSecret, '9000000001'), body, 'signed webhook');
  expect(accepted.status).toBe(202);
  const { executionName } = JSON.parse(accepted.body) as { executionName: string };
  const record = await runtime.engine.wait(executionName);
  if (!record) throw new Error('the webhook started no execution');
  documents.push({ scenario: 'signed webhook', document: documentOf(record) });
  await new Promise<void>((resolve) => webhookServer!.close(() => resolve()));
  webhookServer = undefined;
  await new Promise((resolve) => setImmediate(resolve)); // the server's "execution finished" log line

  // What stays behind: history files, S3, idempotency records.
  const historyDir = join(dataDir, 'executions');
  historyFiles = await Promise.all(
    (await readdir(historyDir)).filter((f) => f.endsWith('.json')).map(async (f) => ({ name: f, text: await readFile(join(historyDir, f), 'utf8') })),
  );
  const s3 = new S3Client({ endpoint: runtime.env.AWS_ENDPOINT_URL_S3, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: runtime.env.ARCHIVE_BUCKET }));
  s3Objects = await Promise.all(
    (listed.Contents ?? []).map(async (o) => ({ key: o.Key!, head: await s3.send(new HeadObjectCommand({ Bucket: runtime.env.ARCHIVE_BUCKET, Key: o.Key! })) })),
  );
  runFileTexts = await Promise.all(
    s3Objects
      .filter((o) => o.key.startsWith('runs/'))
      .map(async (o) => ({ name: `run file ${o.key}`, text: await (await s3.send(new GetObjectCommand({ Bucket: runtime.env.ARCHIVE_BUCKET, Key: o.key }))).Body!.transformToString() })),
  );
  s3Objects = s3Objects.filter((o) => o.key.startsWith('tickets/'));
  s3.destroy();
  const ddb = new DynamoDBClient({ endpoint: runtime.env.AWS_ENDPOINT_URL_DYNAMODB, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  idempotencyItems = ((await ddb.send(new ScanCommand({ TableName: runtime.env.IDEMPOTENCY_TABLE }))).Items ?? []).map((item) => JSON.stringify(item));
  ddb.destroy();

  // Values only known once the runs happened: issued access tokens, signed content URLs.
  for (const token of accessTokens) {
    add(secretNeedles, 'OAuth access token', token);
  }
  for (const request of outbound.requests) {
    if (request.location) {
      add(urlNeedles, 'signed content URL', request.location);
      const signed = new URL(request.location).searchParams.get('token');
      if (signed) add(urlNeedles, 'signed content URL token', signed);
    }
  }
}, 60_000);

afterAll(async () => {
  output?.restore();
  outbound?.restore();
  if (webhookServer) await new Promise<void>((resolve) => webhookServer!.close(() => resolve()));
  await runtime?.close();
  await sandbox?.close();
  await notifyServer?.close();
  await evil?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

function fixedNeedles(): Needle[] {
  const list: Needle[] = [];
  add(list, 'OAuth client secret', SECRETS.oauthClientSecret);
  add(list, 'Zendesk API token', SECRETS.apiToken);
  add(list, 'Zendesk Basic credential', Buffer.from(`${SECRETS.email}/token:${SECRETS.apiToken}`).toString('base64'));
  add(list, 'webhook signing secret', SECRETS.webhookSecret);
  add(list, 'notification URL', `${notifyServer.origin}${SECRETS.notifyPath}`);
  add(list, 'notification URL path', SECRETS.notifyPath);
  for (const segment of SECRETS.notifyPath.split('/').filter(Boolean)) add(list, 'notification URL path segment', segment);
  add(list, 'token URL path', '/attachments/token/');
  add(list, 'signed URL query', '?token=');
  add(list, 'content host URL', `${sandbox.contentOrigin}/attachment/`);
  add(list, 'off-origin host', evil.origin);
  return list;
}

/** Everything forbidden everywhere. */
function allNeedles(): Needle[] {
  return [...fixedNeedles(), ...secretNeedles, ...urlNeedles, ...nameNeedles, ...encodedNameNeedles, ...byteNeedles];
}

// ---- The scenarios did what they should (the evidence for item 2, and that the channels are not vacuous) ----

describe('the hostile runs', () => {
  test('hostile names: every file archived under tickets/{ticket}/{id}{sane ext} and redacted', () => {
    const result = doc('hostile names');
    expect(result.status).toBe('SUCCEEDED');
    expect(result.summary.attachments).toHaveLength(HOSTILE.length);
    for (const file of HOSTILE) {
      const outcome = fileOutcome('hostile names', file.label);
      expect(outcome).toMatchObject({ outcome: 'archived', redacted: true });
      expect(outcome?.s3Key).toMatch(new RegExp(`^tickets/${TICKET.hostile}/${ids[file.label]}(\\.[a-z0-9]{1,10})?$`));
    }
  });

  test('credentials go to the Zendesk origin only; the content host never sees an Authorization header', () => {
    const credentialed = outbound.requests.filter((r) => r.authorization);
    expect(credentialed.length).toBeGreaterThan(0);
    expect(credentialed.filter((r) => new URL(r.url).origin !== sandbox.url)).toEqual([]);
    const contentRequests = sandbox.requests.filter((r) => r.role === 'content');
    expect(contentRequests.length).toBeGreaterThan(0);
    expect(contentRequests.filter((r) => r.authorization)).toEqual([]);
  });

  test('an off-origin content_url is skipped (host_not_allowed) and its host receives no request at all', () => {
    expect(fileOutcome('off-origin content_url', OFF_ORIGIN.label)).toMatchObject({ outcome: 'skipped', reason: 'host_not_allowed', redacted: false });
    expect(evil.requests).toEqual([]);
    expect(outbound.requests.filter((r) => r.url.startsWith(evil.origin))).toEqual([]);
    expect(sandbox.attachment(ids[OFF_ORIGIN.label]!)?.state).toBe('present');
  });

  test('a redirect off the allowed content hosts is skipped (host_not_allowed) and never followed', () => {
    expect(fileOutcome('redirect off the allowed hosts', OFF_HOST_REDIRECT.label)).toMatchObject({ outcome: 'skipped', reason: 'host_not_allowed', redacted: false });
    const hops = outbound.requests.filter((r) => r.url.includes(`/attachments/token/${tokens[OFF_HOST_REDIRECT.label]}/`));
    expect(hops.length).toBeGreaterThan(0);
    expect(hops.every((r) => r.status === 302 && new URL(r.url).origin === sandbox.url)).toBe(true);
    expect(evil.requests).toEqual([]);
    expect(sandbox.attachment(ids[OFF_HOST_REDIRECT.label]!)?.state).toBe('present');
  });

  test('a file over MAX_ATTACHMENT_MB is skipped (too_large) without being downloaded', () => {
    expect(fileOutcome('over MAX_ATTACHMENT_MB', TOO_LARGE.label)).toMatchObject({ outcome: 'skipped', reason: 'too_large', redacted: false });
    expect(outbound.requests.filter((r) => r.url.includes(`/attachments/token/${tokens[TOO_LARGE.label]}/`))).toEqual([]);
    expect(sandbox.attachment(ids[TOO_LARGE.label]!)?.downloads).toBe(0);
    expect(s3Objects.filter((o) => o.key.startsWith(`tickets/${TICKET.tooLarge}/`))).toEqual([]);
  });

  test.each([
    { label: TRUNCATED.label, file: TRUNCATED, outcome: 'failed', reason: 'DownloadIncomplete' },
    { label: LONGER.label, file: LONGER, outcome: 'skipped', reason: 'size_mismatch' },
    { label: SHORTER.label, file: SHORTER, outcome: 'skipped', reason: 'size_mismatch' },
  ])('$label: $outcome ($reason), never verified, never stored, never redacted; the run fails', ({ file, outcome, reason }) => {
    const result = doc('bodies that do not match size');
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('AttachmentsNotArchived');
    expect(fileOutcome('bodies that do not match size', file.label)).toMatchObject({ outcome, reason, redacted: false });
    expect(s3Objects.filter((o) => o.key.startsWith(`tickets/${TICKET.badBodies}/${ids[file.label]}`))).toEqual([]);
    expect(sandbox.attachment(ids[file.label]!)?.state).toBe('present');
    expect(sandbox.redactions.filter((r) => r.ticketId === TICKET.badBodies)).toEqual([]);
  });

  test('a content-host error that echoes the request fails the run by status only (ZendeskRequestFailed)', () => {
    expect(doc('content host error echoing the request')).toMatchObject({ status: 'FAILED', error: 'ZendeskRequestFailed' });
    expect(sandbox.attachment(ids[ECHOED.label]!)?.state).toBe('present');
  });

  test('a notification receiver error that echoes the URL is recorded by status only', () => {
    const exits = events.map((e) => JSON.parse(e.json) as { type: string; state?: string; output?: { ticketId?: string; notification?: unknown } });
    const notify = exits.find((e) => e.type === 'StateExited' && e.state === 'Notify' && e.output?.ticketId === String(TICKET.badBodies));
    expect(notify?.output?.notification).toEqual({ format: 'slack', delivered: false, attempts: 1, error: 'HTTP 500' });
  });

  test('an unknown ticket ends FAILED with TicketNotFound', () => {
    expect(doc('unknown ticket')).toMatchObject({ status: 'FAILED', error: 'TicketNotFound', summary: { attachments: [] } });
  });

  test('a signed webhook through `serve` runs the ticket; a forged one is refused with a bare 401', () => {
    expect(doc('signed webhook').status).toBe('SUCCEEDED');
    expect(doc('signed webhook').summary.attachments.every((a) => a.outcome === 'archived' && a.redacted)).toBe(true);
    expect(webhookResponses.find((r) => r.scenario === 'forged webhook')).toMatchObject({ status: 401, body: '{"message":"unauthorized"}' });
  });

  test('every channel was actually captured (the checks below are not vacuous)', () => {
    const logText = output.lines.map((l) => l.text).join('');
    expect(logText).toContain('attachment archived'); // INFO from the copy step
    expect(logText).toContain('attachment skipped');
    expect(logText).toContain('step failed'); // ERROR from the unknown ticket
    expect(logText).toContain('Zendesk OAuth token obtained'); // DEBUG
    expect(events.length).toBeGreaterThan(100);
    expect(historyFiles.length).toBe(documents.length);
    expect(notifyServer.requests.length).toBeGreaterThanOrEqual(5);
    expect(notifyServer.requests.every((r) => r.url === SECRETS.notifyPath)).toBe(true);
    expect(accessTokens.length).toBeGreaterThan(0);
    expect(outbound.requests.some((r) => r.location?.startsWith(sandbox.contentOrigin))).toBe(true);
    expect(s3Objects.length).toBe(HOSTILE.length + WEBHOOK_FILES.length);
    expect(idempotencyItems.length).toBeGreaterThan(0);
  });
});

// ---- Nothing leaks, channel by channel ----

describe('no channel carries a secret, a URL, a file name or file bytes', () => {
  test('logs (stdout, stderr, console)', () => {
    assertNoLeaks(output.lines.map((l, i) => ({ name: `log ${l.stream} line ${i}`, text: l.text })), allNeedles());
  });

  test('execution history: every state input and output (onEvent) and the saved history files', () => {
    const channels: Channel[] = [
      ...events.map((e, i) => ({ name: `history event ${i} of ${e.execution}`, text: e.json })),
      ...historyFiles.map((f) => ({ name: `history file ${f.name}`, text: f.text })),
    ];
    assertNoLeaks(channels, allNeedles());
  });

  test('the CLI documents', () => {
    assertNoLeaks(documents.map((d) => ({ name: `CLI document (${d.scenario})`, text: JSON.stringify(d.document, null, 2) })), allNeedles());
  });

  test('the notification payloads', () => {
    assertNoLeaks(notifyServer.requests.map((r, i) => ({ name: `notification ${i}`, text: r.body })), allNeedles());
  });

  test('the webhook responses', () => {
    assertNoLeaks(webhookResponses.map((r) => ({ name: `webhook response (${r.scenario})`, text: `${r.status} ${r.headers} ${r.body}` })), allNeedles());
  });

  test('the idempotency records', () => {
    assertNoLeaks(idempotencyItems.map((text, i) => ({ name: `idempotency record ${i}`, text })), allNeedles());
  });

  test("the runs' working files in S3 (copies, redaction records, summaries)", () => {
    expect(runFileTexts.some((f) => f.name.endsWith('/copies.json'))).toBe(true);
    expect(runFileTexts.some((f) => f.name.endsWith('/summary.json'))).toBe(true);
    assertNoLeaks(runFileTexts, allNeedles());
  });

  test('S3 object keys', () => {
    assertNoLeaks(s3Objects.map((o) => ({ name: `S3 key ${o.key}`, text: o.key })), allNeedles());
  });

  test('S3 object metadata: the name only percent-encoded, in plain ASCII', () => {
    const encoded = new Set(encodedNameNeedles.map((n) => n.value));
    const needles = allNeedles().filter((n) => !encoded.has(n.value) && !encodedNameNeedles.includes(n));
    const channels = s3Objects.map((o) => ({
      name: `S3 metadata ${o.key}`,
      text: JSON.stringify({ metadata: o.head.Metadata, contentType: o.head.ContentType, contentDisposition: o.head.ContentDisposition }),
    }));
    assertNoLeaks(channels, needles);
    for (const object of s3Objects) {
      for (const value of Object.values(object.head.Metadata ?? {})) expect(value).toMatch(/^[\x21-\x7e]*$/);
    }
  });
});
