/**
 * `executions list|show|redrive --local` over a history directory written here in the local engine's format,
 * the path description of local events (retries, catches, a failed iteration), and the copy-progress line.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecutionHistory, type ExecutionRecord, type HistoryEvent } from '../../../local/runtime/history.js';
import { describePath } from '../../../local/runtime/path.js';
import {
  formatExecutionTable,
  historyDirOf,
  listExecutions,
  parseSince,
  showExecution,
  type Target,
} from '../../../cli/executions.js';
import { copyProgress } from '../../../cli/progress.js';

const NOW = new Date('2026-08-17T12:00:00Z');
const ARN = (name: string) => `arn:aws:states:us-east-1:000000000000:execution:attachment-vault-local:${name}`;
const at = (minutesAgo: number, plusMs = 0) => new Date(NOW.getTime() - minutesAgo * 60_000 + plusMs).toISOString();

let dir: string;
let target: Target;

const refs = [11, 12, 13].map((id) => ({ attachmentId: id, commentId: 5, size: id * 100_000, inline: false }));

/** As the local engine records it: StateFailed per failed attempt, then StateRetried or StateCaught. */
function failedEvents(t: string): HistoryEvent[] {
  const e = (type: string, extra: Partial<HistoryEvent> = {}): HistoryEvent => ({ timestamp: t, type, ...extra });
  return [
    e('ExecutionStarted', { input: { ticketId: '2002', source: 'cli' } }),
    e('StateEntered', { state: 'MarkTicket' }),
    e('StateFailed', { state: 'MarkTicket', error: 'ZendeskUnavailable', cause: 'getTicket ticket 2002: Zendesk answered 503' }),
    e('StateRetried', { state: 'MarkTicket', attempt: 1 }),
    e('StateExited', { state: 'MarkTicket', output: {} }),
    e('StateEntered', { state: 'ListAttachments' }),
    e('StateExited', { state: 'ListAttachments', output: { ticketId: '2002', listing: { ticketId: '2002', attachments: refs, count: 3, pages: 1, maxConcurrency: 4 } } }),
    e('StateEntered', { state: 'CopyAttachments' }),
    e('MapIterationStarted', { state: 'CopyAttachments', index: 0 }),
    e('MapIterationStarted', { state: 'CopyAttachments', index: 1 }),
    e('MapIterationStarted', { state: 'CopyAttachments', index: 2 }),
    e('StateEntered', { state: 'CopyAttachment', index: 0 }),
    e('StateEntered', { state: 'CopyAttachment', index: 1 }),
    e('StateEntered', { state: 'CopyAttachment', index: 2 }),
    e('StateExited', { state: 'CopyAttachment', index: 0, output: { attachmentId: 11, commentId: 5, size: 1_100_000, outcome: 'archived', s3Key: 'tickets/2002/11.pdf' } }),
    e('MapIterationSucceeded', { state: 'CopyAttachments', index: 0 }),
    e('StateFailed', { state: 'CopyAttachment', index: 1, error: 'DownloadIncomplete', cause: 'short read' }),
    e('StateFailed', { state: 'CopyAttachment', index: 2, error: 'ZendeskAuthFailed', cause: 'download: Zendesk answered 401' }),
    e('StateRetried', { state: 'CopyAttachment', index: 1, attempt: 1 }),
    e('MapIterationFailed', { state: 'CopyAttachments', index: 2, error: 'ZendeskAuthFailed' }),
    e('StateFailed', { state: 'CopyAttachment', index: 1, error: 'DownloadIncomplete', cause: 'short read' }),
    e('StateCaught', { state: 'CopyAttachment', index: 1 }),
    e('StateEntered', { state: 'RecordCopyFailure', index: 1 }),
    e('StateExited', { state: 'RecordCopyFailure', index: 1, output: { attachmentId: 12, commentId: 5, size: 1_200_000, outcome: 'failed', reason: 'DownloadIncomplete' } }),
    e('MapIterationSucceeded', { state: 'CopyAttachments', index: 1 }),
    e('StateFailed', { state: 'CopyAttachments', error: 'ZendeskAuthFailed', cause: 'download: Zendesk answered 401' }),
    e('ExecutionFailed', { error: 'ZendeskAuthFailed', cause: 'download: Zendesk answered 401' }),
  ];
}

function record(name: string, status: ExecutionRecord['status'], minutesAgo: number, events: HistoryEvent[] = [], extra: Partial<ExecutionRecord> = {}): ExecutionRecord {
  return {
    executionName: name,
    executionArn: ARN(name),
    stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:attachment-vault-local',
    status,
    input: { ticketId: name.split('-')[1], source: 'cli' },
    startDate: at(minutesAgo),
    ...(status === 'RUNNING' ? {} : { stopDate: at(minutesAgo, 4000) }),
    events,
    ...extra,
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vault-cli-local-'));
  target = { kind: 'local', historyDir: historyDirOf({ ATTACHMENT_VAULT_DATA_DIR: dir }) };
  const history = new ExecutionHistory(join(dir, 'executions'));
  await history.save(record('run-1001-20260817T115500-aaaa', 'SUCCEEDED', 5));
  await history.save(
    record('run-2002-20260817T113000-bbbb', 'FAILED', 30, failedEvents(at(30)), { error: 'ZendeskAuthFailed', cause: 'download: Zendesk answered 401' }),
  );
  await history.save(record('rerun-3003-20260817T110000-cccc', 'RUNNING', 60));
  await history.save(record('run-4004-20260801T120000-dddd', 'FAILED', 60 * 24 * 16, [], { error: 'TicketNotFound' }));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('executions list --local', () => {
  it('lists the saved executions, newest first', async () => {
    const rows = await listExecutions(target);

    expect(rows.map((r) => [r.name, r.status, r.ticketId])).toEqual([
      ['run-1001-20260817T115500-aaaa', 'SUCCEEDED', '1001'],
      ['run-2002-20260817T113000-bbbb', 'FAILED', '2002'],
      ['rerun-3003-20260817T110000-cccc', 'RUNNING', '3003'],
      ['run-4004-20260801T120000-dddd', 'FAILED', '4004'],
    ]);
  });

  it('filters by status and by --since', async () => {
    const rows = await listExecutions(target, { status: 'FAILED', since: parseSince('7d', NOW)! });

    expect(rows.map((r) => r.name)).toEqual(['run-2002-20260817T113000-bbbb']);
  });

  it('prints a table, with a running execution lasting "so far"', async () => {
    const text = formatExecutionTable(await listExecutions(target, { since: parseSince('12h', NOW)! }), NOW);

    expect(text.split('\n')).toEqual([
      expect.stringMatching(/^NAME\s+STATUS\s+TICKET\s+STARTED\s+DURATION\s+REDRIVES$/),
      expect.stringMatching(/^run-1001-20260817T115500-aaaa\s+SUCCEEDED\s+1001\s+2026-08-17 11:55:00Z\s+4s$/),
      expect.stringMatching(/^run-2002-20260817T113000-bbbb\s+FAILED\s+2002\s+2026-08-17 11:30:00Z\s+4s$/),
      expect.stringMatching(/^rerun-3003-20260817T110000-cccc\s+RUNNING\s+3003\s+2026-08-17 11:00:00Z\s+1h 0m so far$/),
    ]);
  });

  it('finds nothing in a data dir without executions', async () => {
    expect(await listExecutions({ kind: 'local', historyDir: join(dir, 'nowhere') })).toEqual([]);
  });

  it('reads --since as a duration or an ISO date, and refuses anything else', () => {
    expect(parseSince('30m', NOW)!.toISOString()).toBe('2026-08-17T11:30:00.000Z');
    expect(parseSince('2026-08-01', NOW)!.toISOString()).toBe('2026-08-01T00:00:00.000Z');
    expect(() => parseSince('last week', NOW)).toThrow(expect.objectContaining({ name: 'UsageError' }));
  });
});

describe('executions show --local', () => {
  it('shows the path with retries, the caught file, the failed iteration, and every file', async () => {
    const details = await showExecution(target, 'run-2002-20260817T113000-bbbb');

    expect(details.path).toEqual([
      'MarkTicket',
      '  retried MarkTicket (attempt 2) after ZendeskUnavailable',
      'ListAttachments',
      'CopyAttachments',
      '  3 iterations: CopyAttachment x3, RecordCopyFailure x1; 1 retry; errors ZendeskAuthFailed x1, DownloadIncomplete (caught) x1; 1 failed',
      '  failed CopyAttachments: ZendeskAuthFailed',
      'FAILED: ZendeskAuthFailed: download: Zendesk answered 401',
    ]);
    expect(details.attachments.map((a) => [a.attachmentId, a.outcome, a.reason])).toEqual([
      ['11', 'archived', 'not_redacted: ZendeskAuthFailed'],
      ['12', 'failed', 'DownloadIncomplete'],
      ['13', 'failed', 'ZendeskAuthFailed'],
    ]);
    expect(details).toMatchObject({ source: 'local', status: 'FAILED', ticketId: '2002', error: 'ZendeskAuthFailed', cause: 'download: Zendesk answered 401' });
  });

  it('accepts the execution ARN as well as the name', async () => {
    expect((await showExecution(target, ARN('run-1001-20260817T115500-aaaa'))).executionName).toBe('run-1001-20260817T115500-aaaa');
  });

  it('says when there is no such execution', async () => {
    await expect(showExecution(target, 'run-9-x')).rejects.toMatchObject({ name: 'ExecutionDoesNotExist' });
  });
});

describe('describePath', () => {
  it('names a final top-level failure once, after its retries', () => {
    const t = NOW.toISOString();
    const lines = describePath({
      events: [
        { timestamp: t, type: 'StateEntered', state: 'MarkTicket' },
        { timestamp: t, type: 'StateFailed', state: 'MarkTicket', error: 'ZendeskUnavailable' },
        { timestamp: t, type: 'StateRetried', state: 'MarkTicket', attempt: 1 },
        { timestamp: t, type: 'StateFailed', state: 'MarkTicket', error: 'TicketNotFound' },
        { timestamp: t, type: 'ExecutionFailed', error: 'TicketNotFound', cause: 'getTicket ticket 5: Zendesk answered 404' },
      ],
    });

    expect(lines).toEqual([
      'MarkTicket',
      '  retried MarkTicket (attempt 2) after ZendeskUnavailable',
      '  failed MarkTicket: TicketNotFound',
      'FAILED: TicketNotFound: getTicket ticket 5: Zendesk answered 404',
    ]);
  });
});

describe('copy progress', () => {
  const listing = (sizes: number[]): HistoryEvent => ({
    timestamp: NOW.toISOString(),
    type: 'StateExited',
    state: 'ListAttachments',
    output: { listing: { attachments: sizes.map((size, i) => ({ attachmentId: i + 1, commentId: 1, size, inline: false })) } },
  });
  const iteration = (type: string, index: number): HistoryEvent => ({ timestamp: NOW.toISOString(), type, state: 'CopyAttachments', index });

  it('rewrites one terminal line with files and bytes done, and ends it with the Map', () => {
    const written: string[] = [];
    const onEvent = copyProgress({ isTTY: true, write: (text: string) => written.push(text) })!;

    onEvent(listing([4_000_000, 8_500_000, 500_000]));
    onEvent(iteration('MapIterationSucceeded', 1));
    onEvent(iteration('MapIterationFailed', 0));
    onEvent(iteration('MapIterationSucceeded', 2));
    onEvent({ timestamp: NOW.toISOString(), type: 'StateExited', state: 'CopyAttachments' });

    expect(written).toEqual([
      '\r\x1b[2Kcopying: 0/3 files, 0 B of 13.0 MB',
      '\r\x1b[2Kcopying: 1/3 files, 8.5 MB of 13.0 MB',
      '\r\x1b[2Kcopying: 2/3 files, 12.5 MB of 13.0 MB',
      '\r\x1b[2Kcopying: 3/3 files, 13.0 MB of 13.0 MB',
      '\n',
    ]);
  });

  it('stays off when stderr is not a terminal', () => {
    expect(copyProgress({ isTTY: false, write: () => true })).toBeUndefined();
    expect(copyProgress({ write: () => true })).toBeUndefined();
  });
});
