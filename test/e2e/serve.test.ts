/** `attachment-vault serve`: Zendesk's signed webhook over real HTTP into the local engine. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import type { LocalRuntime } from '../../local/runtime/local.js';

let runtime: LocalRuntime;
let server: Server;
let url: string;
let dataDir: string;
let sign: (secret: string, timestamp: string, body: Buffer) => string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'vault-serve-'));
  const env: NodeJS.ProcessEnv = { ...process.env, ATTACHMENT_VAULT_DATA_DIR: dataDir, ZENDESK_WEBHOOK_SECRET: 'serve-test-secret' };
  for (const key of ['ZENDESK_URL', 'AWS_ENDPOINT_URL_S3', 'ARCHIVE_BUCKET', 'IDEMPOTENCY_TABLE', 'NOTIFY_WEBHOOK_URL']) delete env[key];
  const { openLocal } = await import('../../local/runtime/local.js');
  const { startWebhookServer } = await import('../../cli/serve.js');
  ({ signZendeskPayload: sign } = await import('../../lambdas/shared/signature.js'));
  runtime = await openLocal({ env, retryIntervalMs: 0, waitMs: 0, persistS3: false, seedDemo: false });
  ({ server, url } = await startWebhookServer(runtime, { port: 0, host: '127.0.0.1' }));
  runtime.sandbox!.createTicket({ id: 3001, status: 'open', tags: ['vault_archive'] });
  runtime.sandbox!.addComment(3001, { attachments: [{ fileName: 'x.txt', contentType: 'text/plain', data: Buffer.from('hello\n') }] });
});

afterAll(async () => {
  await new Promise<void>((r) => server?.close(() => r()));
  await runtime?.close();
  await rm(dataDir, { recursive: true, force: true });
});

function deliver(body: string, options: { invocationId?: string; secret?: string; timestamp?: string } = {}) {
  const timestamp = options.timestamp ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-zendesk-webhook-id': '01TESTWEBHOOK',
      'x-zendesk-webhook-invocation-id': options.invocationId ?? '42',
      'x-zendesk-webhook-signature-timestamp': timestamp,
      'x-zendesk-webhook-signature': sign(options.secret ?? 'serve-test-secret', timestamp, Buffer.from(body)),
    },
    body,
  });
}

test('a valid webhook starts one execution (202), a duplicate delivery does not start another (200)', async () => {
  const body = JSON.stringify({ ticket_id: '3001' });
  const first = await deliver(body);
  expect(first.status).toBe(202);
  const { executionName } = (await first.json()) as { executionName: string };
  expect(executionName).toBe('zd-3001-42');
  const record = await runtime.engine.wait(executionName);
  expect(record?.status).toBe('SUCCEEDED');

  const again = await deliver(body);
  expect(again.status).toBe(200);
  expect(await again.json()).toMatchObject({ executionName: 'zd-3001-42', duplicate: true });
  const executions = (await runtime.engine.history.list()).filter((r) => r.executionName.startsWith('zd-3001-'));
  expect(executions).toHaveLength(1);
  expect(runtime.sandbox!.ticket(3001)!.tags).toContain('vault_archived');
});

test('a repeat that arrives while the first execution still runs is a duplicate too (200), and three at once start one', async () => {
  runtime.sandbox!.createTicket({ id: 3002, status: 'open', tags: ['vault_archive'] });
  runtime.sandbox!.addComment(3002, { attachments: [{ fileName: 'y.txt', contentType: 'text/plain', data: Buffer.from('slow\n') }] });
  // The file's download waits 1.5 s: the first execution is surely RUNNING while the repeats arrive.
  runtime.sandbox!.faults.add({ match: { route: 'content' }, fault: { kind: 'delay', ms: 1500 } });
  const body = JSON.stringify({ ticket_id: '3002' });
  const answers = await Promise.all([deliver(body, { invocationId: '77' }), deliver(body, { invocationId: '77' }), deliver(body, { invocationId: '77' })]);
  expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 202]);
  expect(await runtime.engine.history.get('zd-3002-77')).toMatchObject({ status: 'RUNNING' });

  const during = await deliver(body, { invocationId: '77' });
  expect([during.status, await during.json()]).toEqual([200, { executionName: 'zd-3002-77', duplicate: true }]);
  expect((await runtime.engine.wait('zd-3002-77'))?.status).toBe('SUCCEEDED');
  const after = await deliver(body, { invocationId: '77' });
  expect(after.status).toBe(200);
  const executions = (await runtime.engine.history.list()).filter((r) => r.executionName.startsWith('zd-3002-'));
  expect(executions.map((r) => r.executionName)).toEqual(['zd-3002-77']);
});

test('a captured delivery replayed under new invocation ids (the header is not signed) is a duplicate: 200, nothing starts', async () => {
  runtime.sandbox!.createTicket({ id: 3003, status: 'open', tags: ['vault_archive'] });
  runtime.sandbox!.addComment(3003, { attachments: [{ fileName: 'z.txt', contentType: 'text/plain', data: Buffer.from('z\n') }] });
  const body = JSON.stringify({ ticket_id: '3003' });
  const timestamp = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const first = await deliver(body, { invocationId: '90', timestamp });
  expect(first.status).toBe(202);
  for (const invocationId of ['91', '92']) {
    const replay = await deliver(body, { invocationId, timestamp });
    expect([replay.status, await replay.json()]).toEqual([200, { executionName: 'zd-3003-90', duplicate: true }]);
  }
  await runtime.engine.wait('zd-3003-90');
  const executions = (await runtime.engine.history.list()).filter((r) => r.executionName.startsWith('zd-3003-'));
  expect(executions.map((r) => r.executionName)).toEqual(['zd-3003-90']);
});

test('a badly signed, stale or unsigned webhook is refused with 401 and starts nothing', async () => {
  const body = JSON.stringify({ ticket_id: '3001' });
  const before = (await runtime.engine.history.list()).length;
  expect((await deliver(body, { secret: 'wrong-secret', invocationId: '43' })).status).toBe(401);
  expect((await deliver(body, { invocationId: '44', timestamp: '2020-01-01T00:00:00Z' })).status).toBe(401);
  const unsigned = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  expect(unsigned.status).toBe(401);
  expect(await unsigned.text()).not.toMatch(/signature|stale|mismatch/i);
  expect((await runtime.engine.history.list()).length).toBe(before);
});

test('malformed bodies and ticket ids are 400, oversized bodies 413, and nothing starts', async () => {
  const before = (await runtime.engine.history.list()).length;
  expect((await deliver('{"ticket_id": "12; rm -rf"}', { invocationId: '45' })).status).toBe(400);
  expect((await deliver('not json', { invocationId: '46' })).status).toBe(400);
  expect((await deliver(JSON.stringify({ ticket_id: '1', pad: 'x'.repeat(17 * 1024) }), { invocationId: '47' })).status).toBe(413);
  expect((await runtime.engine.history.list()).length).toBe(before);
});
