/**
 * The real command (cli/bin/attachment-vault.js) in a child process: stdout is exactly one JSON document (or
 * the command's text), logs go to stderr, and the exit codes are 0 (succeeded), 1 (failed), 2 (usage/config).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ExecutionHistory } from '../../../local/runtime/history.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const BIN = join(ROOT, 'cli/bin/attachment-vault.js');
let dataDir: string;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  const base: NodeJS.ProcessEnv = { ...process.env, ATTACHMENT_VAULT_DATA_DIR: dataDir, POWERTOOLS_LOG_LEVEL: 'WARN', ...env };
  for (const key of ['ZENDESK_URL', 'AWS_ENDPOINT_URL_S3', 'ARCHIVE_BUCKET', 'IDEMPOTENCY_TABLE', 'NOTIFY_WEBHOOK_URL', 'STATE_MACHINE_ARN', 'NODE_OPTIONS']) {
    if (!(key in env)) delete base[key];
  }
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: base, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'vault-cli-bin-'));
  await new ExecutionHistory(join(dataDir, 'executions')).save({
    executionName: 'run-1001-20260817T115500-aaaa',
    executionArn: 'arn:aws:states:us-east-1:000000000000:execution:attachment-vault-local:run-1001-20260817T115500-aaaa',
    stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:attachment-vault-local',
    status: 'FAILED',
    input: { ticketId: '1001', source: 'cli' },
    error: 'TicketNotFound',
    cause: 'getTicket ticket 1001: Zendesk answered 404',
    startDate: '2026-08-17T11:55:00.000Z',
    stopDate: '2026-08-17T11:55:01.000Z',
    events: [],
  });
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('attachment-vault (the bin)', () => {
  it('executions list --local --json prints one JSON document and exits 0', async () => {
    const result = await cli(['executions', 'list', '--local', '--json']);

    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      executions: [expect.objectContaining({ name: 'run-1001-20260817T115500-aaaa', status: 'FAILED', ticketId: '1001' })],
    });
  });

  it('exits 2 with nothing on stdout for usage errors', async () => {
    for (const args of [
      ['executions', 'list', '--local', '--status', 'BROKEN'],
      ['executions', 'list', '--local', '--since', 'yesterday'],
      ['executions', 'list', '--local', '--bogus'],
      ['executions', 'show', '--local'],
      ['executions'],
      ['rerun', '--local'],
      ['zendesk', 'setup'],
      ['zendesk', 'setup', '--webhook-url', 'https://x.example/hook', '--print-secret', '--secret-id', 's'],
    ]) {
      const result = await cli(args);
      expect({ args, code: result.code, stdout: result.stdout }).toEqual({ args, code: 2, stdout: '' });
      expect(result.stderr).toMatch(/^attachment-vault: /);
    }
  });

  it('exits 2 when configuration is missing: no ZENDESK_URL for setup, no state machine for AWS', async () => {
    const setup = await cli(['zendesk', 'setup', '--webhook-url', 'https://x.example/hook']);
    expect([setup.code, setup.stdout]).toEqual([2, '']);
    expect(setup.stderr).toContain('ZENDESK_URL');

    const list = await cli(['executions', 'list']);
    expect([list.code, list.stdout]).toEqual([2, '']);
    expect(list.stderr).toContain('STATE_MACHINE_ARN');
  });

  it('exits 1 for an unknown execution', async () => {
    const result = await cli(['executions', 'show', 'run-9-nope', '--local']);

    expect([result.code, result.stdout]).toEqual([1, '']);
    expect(result.stderr).toContain('ExecutionDoesNotExist');
  });

  it('redrive --local refuses an execution with no failed state to resume at, exits 1 and gives the equivalent re-run', async () => {
    const result = await cli(['executions', 'redrive', 'run-1001-20260817T115500-aaaa', '--local']);

    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ redriven: false, error: 'ExecutionNotRedrivable', hint: 'attachment-vault rerun --ticket 1001 --local' });
    expect(result.stderr).toContain('no state to resume at');
  });

  it('redrive --local resumes the same execution at the state that failed and runs it to the end', async () => {
    const input = { ticketId: '1001', source: 'cli' };
    // As MarkTicket writes it (with the ticket context the copy Map hands to each CopyAttachment).
    const mark = { ticketId: '1001', ticketStatus: 'open', context: {}, tagged: true };
    const zendeskWaits = { count: 0 };
    const at = (s: number) => `2026-08-17T12:00:0${s}.000Z`;
    await new ExecutionHistory(join(dataDir, 'executions')).save({
      executionName: 'run-1001-20260817T120000-bbbb',
      executionArn: 'arn:aws:states:us-east-1:000000000000:execution:attachment-vault-local:run-1001-20260817T120000-bbbb',
      stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:attachment-vault-local',
      status: 'FAILED',
      input,
      error: 'ZendeskUnavailable',
      cause: 'listComments ticket 1001: Zendesk answered 503',
      startDate: at(0),
      stopDate: at(3),
      events: [
        { timestamp: at(0), type: 'ExecutionStarted', input },
        { timestamp: at(0), type: 'StateEntered', state: 'MarkTicket', input },
        { timestamp: at(1), type: 'StateExited', state: 'MarkTicket', output: { ...input, zendeskWaits, mark } },
        { timestamp: at(1), type: 'StateEntered', state: 'ListAttachments', input: { ...input, zendeskWaits, mark } },
        { timestamp: at(2), type: 'StateFailed', state: 'ListAttachments', error: 'ZendeskUnavailable', cause: 'listComments ticket 1001: Zendesk answered 503' },
        { timestamp: at(3), type: 'ExecutionFailed', error: 'ZendeskUnavailable', cause: 'listComments ticket 1001: Zendesk answered 503' },
      ],
    });

    const result = await cli(['executions', 'redrive', 'run-1001-20260817T120000-bbbb', '--local']);

    expect(result.code).toBe(0);
    const document = JSON.parse(result.stdout) as { redriven: boolean; executionName: string; status: string; summary: { attachments: Array<{ outcome: string; redacted: boolean }> } };
    expect(document).toMatchObject({ redriven: true, executionName: 'run-1001-20260817T120000-bbbb', status: 'SUCCEEDED' });
    expect(document.summary.attachments).toHaveLength(4);
    expect(document.summary.attachments.every((a) => a.outcome === 'archived' && a.redacted)).toBe(true);
    const saved = await new ExecutionHistory(join(dataDir, 'executions')).get('run-1001-20260817T120000-bbbb');
    const redriven = saved!.events.findIndex((e) => e.type === 'ExecutionRedriven');
    expect(saved!.events[redriven]).toMatchObject({ state: 'ListAttachments' });
    // MarkTicket is not run again: the redrive starts at the failed state.
    expect(saved!.events.slice(redriven).some((e) => e.state === 'MarkTicket')).toBe(false);
  }, 60_000);

  it('rerun --local runs the ticket in the local engine and prints the same document as run; show reads it back', async () => {
    const rerun = await cli(['rerun', '--ticket', '1001', '--local']);

    expect(rerun.code).toBe(0);
    const document = JSON.parse(rerun.stdout) as { executionName: string; status: string; summary: { attachments: unknown[] } };
    expect(document.executionName).toMatch(/^rerun-1001-\d{8}T\d{6}-[0-9a-f]{4}$/);
    expect(document.status).toBe('SUCCEEDED');
    expect(document.summary.attachments).toHaveLength(4);
    expect(rerun.stderr).not.toContain('copying:'); // not a terminal: no progress line

    const show = await cli(['executions', 'show', document.executionName, '--local', '--json']);
    expect(show.code).toBe(0);
    const details = JSON.parse(show.stdout) as { path: string[]; attachments: Array<{ outcome: string }> };
    expect(details.path).toContain('  4 iterations: CopyAttachment x4');
    // The redrive above already archived ticket 1001's files into this data dir's S3: the re-run finds them.
    expect(details.attachments.map((a) => a.outcome)).toEqual(['already_archived', 'already_archived', 'already_archived', 'already_archived']);
  });
});

describe('a large document through a pipe', () => {
  it('arrives whole: the command waits for stdout to drain before it exits, even when the reader is slow', async () => {
    const files = 5000;
    const name = 'run-1002-20260817T120000-bbbb';
    const attachments = Array.from({ length: files }, (_, i) => ({ attachmentId: 900000 + i, commentId: 1000 + Math.floor(i / 5), outcome: 'archived', s3Key: `tickets/1002/${900000 + i}.pdf`, redacted: true, size: 1234, contentType: 'application/pdf' }));
    await new ExecutionHistory(join(dataDir, 'executions')).save({
      executionName: name,
      executionArn: `arn:aws:states:us-east-1:000000000000:execution:attachment-vault-local:${name}`,
      stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:attachment-vault-local',
      status: 'SUCCEEDED',
      input: { ticketId: '1002', source: 'cli' },
      startDate: '2026-08-17T12:00:00.000Z',
      stopDate: '2026-08-17T12:10:00.000Z',
      events: [{ timestamp: '2026-08-17T12:09:59.000Z', type: 'StateExited', state: 'FinishTicket', output: { finish: { summary: { ticketId: '1002', status: 'SUCCEEDED', tagged: true, attachments, counts: {} } } } }],
    });
    const base: NodeJS.ProcessEnv = { ...process.env, ATTACHMENT_VAULT_DATA_DIR: dataDir, POWERTOOLS_LOG_LEVEL: 'WARN' };
    delete base.NODE_OPTIONS;
    const child = spawn(process.execPath, [BIN, 'executions', 'show', name, '--local', '--json'], { cwd: ROOT, env: base, stdio: ['ignore', 'pipe', 'pipe'] });
    // Nobody reads for a while: the pipe (64 KiB) fills long before the document (over 800 KB) is written.
    child.stdout.pause();
    await new Promise((r) => setTimeout(r, 500));
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stdout.resume();
    const code = await new Promise<number | null>((r) => child.on('close', r));
    const text = Buffer.concat(chunks).toString('utf8');
    expect(code).toBe(0);
    expect(text.length).toBeGreaterThan(800_000);
    const document = JSON.parse(text) as { attachments: Array<{ attachmentId: string }> };
    expect(document.attachments).toHaveLength(files);
    expect(document.attachments.at(-1)!.attachmentId).toBe(String(900000 + files - 1));
  });
});
