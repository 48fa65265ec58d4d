/** The `attachment-vault` command as a user runs it: a real process, stdout one JSON document, exit codes. */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const BIN = resolve('cli/bin/attachment-vault.js');
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'vault-cli-'));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

function cli(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, ATTACHMENT_VAULT_DATA_DIR: dataDir, ...extraEnv };
  for (const key of ['ZENDESK_URL', 'AWS_ENDPOINT_URL_S3', 'ARCHIVE_BUCKET', 'IDEMPOTENCY_TABLE', 'NODE_OPTIONS']) if (!(key in extraEnv)) delete env[key];
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

test('run --ticket on embedded defaults prints one JSON document and exits 0', async () => {
  const result = await cli(['run', '--ticket', '1001']);
  expect(result.code).toBe(0);
  const document = JSON.parse(result.stdout) as { executionName: string; status: string; summary: { ticketId: string; attachments: Array<{ outcome: string; redacted: boolean; s3Key: string }> } };
  expect(document.status).toBe('SUCCEEDED');
  expect(document.executionName).toMatch(/^run-1001-\d{8}T\d{6}-[0-9a-f]{4}$/);
  expect(document.summary.ticketId).toBe('1001');
  expect(document.summary.attachments).toHaveLength(4);
  for (const a of document.summary.attachments) {
    expect(a.redacted).toBe(true);
    expect(a.s3Key).toMatch(/^tickets\/1001\/\d+\.(pdf|png)$/);
  }
}, 60_000);

test('an unknown ticket exits 1 with status FAILED and the error named', async () => {
  const result = await cli(['run', '--ticket', '424242']);
  expect(result.code).toBe(1);
  expect(JSON.parse(result.stdout)).toEqual({ executionName: expect.any(String), status: 'FAILED', error: 'TicketNotFound', cause: expect.stringContaining('424242'), summary: { ticketId: '424242', attachments: [] } });
}, 60_000);

test('usage and configuration errors exit 2 with a message on stderr and nothing on stdout', async () => {
  const missing = await cli(['run']);
  expect(missing.code).toBe(2);
  expect(missing.stdout).toBe('');
  expect(missing.stderr).toMatch(/--ticket/);
  const bad = await cli(['run', '--ticket', 'abc']);
  expect(bad.code).toBe(2);
  const refused = await cli(['run', '--ticket', '1'], { ZENDESK_URL: 'https://acme.zendesk.com', ZENDESK_EMAIL: 'a@b.c', ZENDESK_API_TOKEN: 't' });
  expect(refused.code).toBe(2);
  expect(refused.stdout).toBe('');
  expect(refused.stderr).toMatch(/real Zendesk/);
}, 60_000);
