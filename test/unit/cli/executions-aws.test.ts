/**
 * `executions list|show|redrive` and `rerun` against the Step Functions API (aws-sdk-client-mock), with a history
 * shaped like GetExecutionHistory's: plain-ARN Lambda tasks (LambdaFunction* events), an inline Map whose
 * iterations interleave and are linked by previousEventId only, retries, a Catch, and a failed iteration.
 */
import { beforeEach, describe, expect, it } from '@jest/globals';
import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  ExecutionNotRedrivable,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  RedriveExecutionCommand,
  SFNClient,
  StartExecutionCommand,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import {
  executionArnOf,
  explainRedrive,
  formatExecutionDetails,
  formatExecutionTable,
  listExecutions,
  redriveExecution,
  rerunOnAws,
  showExecution,
  type AwsTarget,
} from '../../../cli/executions.js';

const sfnMock = mockClient(SFNClient);
const SM = 'arn:aws:states:eu-west-1:111122223333:stateMachine:attachment-vault';
const NAME = 'zd-1001-8350205582';
const ARN = `arn:aws:states:eu-west-1:111122223333:execution:attachment-vault:${NAME}`;
const target = (): AwsTarget => ({ kind: 'aws', sfn: new SFNClient({ region: 'eu-west-1' }), stateMachineArn: SM });

beforeEach(() => {
  sfnMock.reset();
});

// ---- a recorded-like history ----

const T0 = Date.parse('2026-08-17T07:34:50Z');

/** Builds events in order; each lane chains previousEventId like the service does. */
function historyBuilder() {
  const events: HistoryEvent[] = [];
  const add = (previous: number | undefined, type: string, details: Partial<HistoryEvent> = {}): number => {
    const id = events.length + 1;
    events.push({ id, ...(previous ? { previousEventId: previous } : {}), timestamp: new Date(T0 + id * 1000), type: type as HistoryEvent['type'], ...details });
    return id;
  };
  const lane = (start: number) => {
    let last = start;
    return {
      add(type: string, details: Partial<HistoryEvent> = {}) {
        last = add(last, type, details);
        return last;
      },
      get last() {
        return last;
      },
    };
  };
  return { events, add, lane };
}

const json = (value: unknown) => JSON.stringify(value);
const entered = (name: string, input: unknown = {}) => ({ stateEnteredEventDetails: { name, input: json(input) } });
const exited = (name: string, output: unknown = {}) => ({ stateExitedEventDetails: { name, output: json(output) } });
const lambdaFailed = (error: string) => ({
  lambdaFunctionFailedEventDetails: { error, cause: json({ errorType: error, errorMessage: `${error} (test)`, trace: ['at x'] }) },
});
const refs = [101, 102, 103, 104].map((id) => ({ attachmentId: id, commentId: 900, size: id * 1000, inline: false }));
const copied = (attachmentId: number) => ({
  attachmentId,
  commentId: 900,
  size: attachmentId * 1000,
  outcome: 'archived',
  s3Key: `tickets/1001/${attachmentId}.pdf`,
  bytes: attachmentId * 1000,
});

/**
 * MarkTicket retried once; iteration 0 copies; 1 retries DownloadIncomplete then copies; 2 fails CopyNotVerified
 * twice and is caught into RecordCopyFailure; 3 fails ArchiveUnavailable twice (not caught): the Map and the
 * execution fail.
 */
function failedMapHistory(): HistoryEvent[] {
  const h = historyBuilder();
  const top = h.lane(h.add(undefined, 'ExecutionStarted', { executionStartedEventDetails: { input: json({ ticketId: '1001', source: 'webhook' }) } }));
  top.add('TaskStateEntered', entered('MarkTicket'));
  top.add('LambdaFunctionScheduled', { lambdaFunctionScheduledEventDetails: { resource: 'arn:aws:lambda:eu-west-1:111122223333:function:mark' } });
  top.add('LambdaFunctionStarted');
  top.add('LambdaFunctionFailed', lambdaFailed('ZendeskUnavailable'));
  top.add('LambdaFunctionScheduled', { lambdaFunctionScheduledEventDetails: { resource: 'arn:aws:lambda:eu-west-1:111122223333:function:mark' } });
  top.add('LambdaFunctionStarted');
  top.add('LambdaFunctionSucceeded');
  top.add('TaskStateExited', exited('MarkTicket'));
  top.add('TaskStateEntered', entered('ListAttachments'));
  top.add('LambdaFunctionScheduled');
  top.add('LambdaFunctionStarted');
  top.add('LambdaFunctionSucceeded');
  top.add('TaskStateExited', exited('ListAttachments', { ticketId: '1001', listing: { ticketId: '1001', attachments: refs, count: 4, pages: 1, maxConcurrency: 4 } }));
  top.add('MapStateEntered', entered('CopyAttachments'));
  const mapStarted = top.add('MapStateStarted', { mapStateStartedEventDetails: { length: 4 } });
  const it = [0, 1, 2, 3].map((index) => h.lane(h.add(mapStarted, 'MapIterationStarted', { mapIterationStartedEventDetails: { name: 'CopyAttachments', index } })));
  const [i0, i1, i2, i3] = it as [ReturnType<typeof h.lane>, ReturnType<typeof h.lane>, ReturnType<typeof h.lane>, ReturnType<typeof h.lane>];
  for (const lane of it) lane.add('TaskStateEntered', entered('CopyAttachment'));
  for (const lane of it) lane.add('LambdaFunctionScheduled');
  for (const lane of it) lane.add('LambdaFunctionStarted');
  i0.add('LambdaFunctionSucceeded');
  i1.add('LambdaFunctionFailed', lambdaFailed('DownloadIncomplete'));
  i2.add('LambdaFunctionFailed', lambdaFailed('CopyNotVerified'));
  i3.add('LambdaFunctionFailed', lambdaFailed('ArchiveUnavailable'));
  i0.add('TaskStateExited', exited('CopyAttachment', copied(101)));
  i0.add('MapIterationSucceeded', { mapIterationSucceededEventDetails: { name: 'CopyAttachments', index: 0 } });
  for (const lane of [i1, i2, i3]) lane.add('LambdaFunctionScheduled');
  for (const lane of [i1, i2, i3]) lane.add('LambdaFunctionStarted');
  i1.add('LambdaFunctionSucceeded');
  i2.add('LambdaFunctionFailed', lambdaFailed('CopyNotVerified'));
  i1.add('TaskStateExited', exited('CopyAttachment', copied(102)));
  i2.add('PassStateEntered', entered('RecordCopyFailure'));
  i1.add('MapIterationSucceeded', { mapIterationSucceededEventDetails: { name: 'CopyAttachments', index: 1 } });
  i2.add('PassStateExited', exited('RecordCopyFailure', { attachmentId: 103, commentId: 900, size: 103000, outcome: 'failed', reason: 'CopyNotVerified' }));
  i2.add('MapIterationSucceeded', { mapIterationSucceededEventDetails: { name: 'CopyAttachments', index: 2 } });
  i3.add('LambdaFunctionFailed', lambdaFailed('ArchiveUnavailable'));
  const iterationFailed = i3.add('MapIterationFailed', { mapIterationFailedEventDetails: { name: 'CopyAttachments', index: 3 } });
  const mapFailed = h.add(iterationFailed, 'MapStateFailed');
  h.add(mapFailed, 'ExecutionFailed', {
    executionFailedEventDetails: { error: 'ArchiveUnavailable', cause: json({ errorType: 'ArchiveUnavailable', errorMessage: 'S3 failed after retries', trace: [] }) },
  });
  return h.events;
}

function describeOutput(extra: Record<string, unknown> = {}) {
  return {
    executionArn: ARN,
    stateMachineArn: SM,
    name: NAME,
    status: 'FAILED' as const,
    startDate: new Date(T0),
    stopDate: new Date(T0 + 90_000),
    input: json({ ticketId: '1001', source: 'webhook', invocationId: '8350205582' }),
    error: 'ArchiveUnavailable',
    cause: json({ errorType: 'ArchiveUnavailable', errorMessage: 'S3 failed after retries', trace: [] }),
    redriveStatus: 'REDRIVABLE' as const,
    ...extra,
  };
}

describe('executions list (AWS)', () => {
  const item = (name: string, minutesAgo: number, now: Date, status = 'FAILED') => ({
    executionArn: `arn:aws:states:eu-west-1:111122223333:execution:attachment-vault:${name}`,
    stateMachineArn: SM,
    name,
    status: status as 'FAILED',
    startDate: new Date(now.getTime() - minutesAgo * 60_000),
    stopDate: new Date(now.getTime() - minutesAgo * 60_000 + 5000),
  });

  it('filters by status, follows pages and stops at the first execution older than --since', async () => {
    const now = new Date('2026-08-17T12:00:00Z');
    sfnMock
      .on(ListExecutionsCommand)
      .resolvesOnce({ executions: [item('zd-1-1', 5, now), item('rerun-2-20260817T115000-ab12', 10, now)], nextToken: 'page2' })
      .resolvesOnce({ executions: [item('run-3-20260817T100000-cd34', 120, now), item('zd-4-4', 60 * 24 * 8, now), item('zd-5-5', 60 * 24 * 9, now)], nextToken: 'page3' })
      .resolves({ executions: [item('zd-6-6', 60 * 24 * 30, now)] });

    const rows = await listExecutions(target(), { status: 'FAILED', since: new Date(now.getTime() - 7 * 86_400_000) });

    expect(rows.map((r) => [r.name, r.ticketId])).toEqual([
      ['zd-1-1', '1'],
      ['rerun-2-20260817T115000-ab12', '2'],
      ['run-3-20260817T100000-cd34', '3'],
    ]);
    const calls = sfnMock.commandCalls(ListExecutionsCommand);
    expect(calls).toHaveLength(2);
    expect(calls[0]!.args[0].input).toMatchObject({ stateMachineArn: SM, statusFilter: 'FAILED' });
    expect(calls[1]!.args[0].input).toMatchObject({ nextToken: 'page2', statusFilter: 'FAILED' });
    expect(formatExecutionTable(rows, now).split('\n')[0]).toMatch(/^NAME\s+STATUS\s+TICKET\s+STARTED\s+DURATION\s+REDRIVES$/);
  });

  it('lists every page without --since, up to --limit', async () => {
    const now = new Date();
    sfnMock
      .on(ListExecutionsCommand)
      .resolvesOnce({ executions: [item('zd-1-1', 1, now, 'SUCCEEDED')], nextToken: 'p2' })
      .resolvesOnce({ executions: [item('zd-2-2', 2, now, 'SUCCEEDED'), item('zd-3-3', 3, now, 'SUCCEEDED')], nextToken: 'p3' })
      .resolves({ executions: [item('zd-4-4', 4, now, 'SUCCEEDED')] });

    expect((await listExecutions(target())).map((r) => r.name)).toEqual(['zd-1-1', 'zd-2-2', 'zd-3-3', 'zd-4-4']);
    sfnMock.resetHistory();
    expect((await listExecutions(target(), { limit: 2 })).map((r) => r.name)).toEqual(['zd-1-1', 'zd-2-2']);
    expect(sfnMock.commandCalls(ListExecutionsCommand)[0]!.args[0].input).not.toHaveProperty('statusFilter');
  });

  it('needs the state machine', async () => {
    await expect(listExecutions({ kind: 'aws', sfn: new SFNClient({ region: 'eu-west-1' }) })).rejects.toMatchObject({ name: 'ConfigurationError' });
  });
});

describe('executions show (AWS)', () => {
  it('resolves a name to the execution ARN of the state machine', () => {
    expect(executionArnOf(NAME, SM)).toBe(ARN);
    expect(executionArnOf(ARN, undefined)).toBe(ARN);
    expect(() => executionArnOf(NAME, undefined)).toThrow(expect.objectContaining({ name: 'ConfigurationError' }));
  });

  it('shows the path with retries, a caught error and the failed iteration, and every file', async () => {
    const events = failedMapHistory();
    sfnMock.on(DescribeExecutionCommand, { executionArn: ARN }).resolves(describeOutput());
    sfnMock
      .on(GetExecutionHistoryCommand)
      .resolvesOnce({ events: events.slice(0, 20), nextToken: 'more' })
      .resolves({ events: events.slice(20) });

    const details = await showExecution(target(), NAME);

    const historyCalls = sfnMock.commandCalls(GetExecutionHistoryCommand);
    expect(historyCalls.map((c) => c.args[0].input)).toEqual([
      expect.objectContaining({ executionArn: ARN, includeExecutionData: true }),
      expect.objectContaining({ executionArn: ARN, includeExecutionData: true, nextToken: 'more' }),
    ]);
    expect(details.path).toEqual([
      'MarkTicket',
      '  retried MarkTicket (attempt 2) after ZendeskUnavailable',
      'ListAttachments',
      'CopyAttachments',
      '  4 iterations: CopyAttachment x4, RecordCopyFailure x1; 3 retries; errors CopyNotVerified (caught) x1, ArchiveUnavailable x1; 1 failed',
      '  failed CopyAttachments: ArchiveUnavailable',
      'FAILED: ArchiveUnavailable: S3 failed after retries',
    ]);
    expect(details.attachments.map((a) => [a.attachmentId, a.outcome, a.redacted, a.s3Key ?? a.reason])).toEqual([
      ['101', 'archived', false, 'tickets/1001/101.pdf'],
      ['102', 'archived', false, 'tickets/1001/102.pdf'],
      ['103', 'failed', false, 'CopyNotVerified'],
      ['104', 'failed', false, 'ArchiveUnavailable'],
    ]);
    expect(details).toMatchObject({ source: 'aws', executionName: NAME, executionArn: ARN, status: 'FAILED', ticketId: '1001', error: 'ArchiveUnavailable', redriveStatus: 'REDRIVABLE' });

    const text = formatExecutionDetails(details);
    expect(text).toContain('cause     S3 failed after retries');
    expect(text).toMatch(/104\s+900\s+104\.0 kB\s+failed\s+no\s+ArchiveUnavailable/);
  });

  it("reads a finished execution's files from FinishTicket's summary", async () => {
    const h = historyBuilder();
    const top = h.lane(h.add(undefined, 'ExecutionStarted', { executionStartedEventDetails: { input: json({ ticketId: '7', source: 'rerun' }) } }));
    top.add('TaskStateEntered', entered('FinishTicket'));
    const summary = { ticketId: '7', status: 'SUCCEEDED', tagged: true, attachments: [{ attachmentId: 1, commentId: 2, outcome: 'archived', s3Key: 'tickets/7/1.png', redacted: true, size: 10 }], counts: {} };
    top.add('TaskStateExited', exited('FinishTicket', { ticketId: '7', finish: { summary, finalTag: 'vault_archived', tagged: true } }));
    top.add('ExecutionSucceeded', { executionSucceededEventDetails: { output: '{}' } });
    sfnMock.on(DescribeExecutionCommand).resolves(describeOutput({ status: 'SUCCEEDED', error: undefined, cause: undefined, name: 'rerun-7-x', input: json({ ticketId: '7', source: 'rerun' }) }));
    sfnMock.on(GetExecutionHistoryCommand).resolves({ events: h.events });

    const details = await showExecution(target(), 'rerun-7-x');

    expect(details.attachments).toEqual([{ attachmentId: '1', commentId: '2', outcome: 'archived', s3Key: 'tickets/7/1.png', redacted: true, size: 10 }]);
    expect(details.path).toEqual(['FinishTicket', 'SUCCEEDED']);
  });

  it('says when the execution does not exist', async () => {
    sfnMock.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: {} }));

    await expect(showExecution(target(), 'zd-9-9')).rejects.toMatchObject({ name: 'ExecutionDoesNotExist' });
  });
});

describe('executions redrive (AWS)', () => {
  it('redrives and reports the redrive date', async () => {
    sfnMock.on(RedriveExecutionCommand).resolves({ redriveDate: new Date('2026-08-18T09:00:00Z') });

    const report = await redriveExecution(target(), NAME);

    expect(report).toEqual({ executionArn: ARN, redriven: true, redriveDate: '2026-08-18T09:00:00.000Z' });
    expect(sfnMock.commandCalls(RedriveExecutionCommand)[0]!.args[0].input).toMatchObject({ executionArn: ARN });
    expect(explainRedrive(report)).toBe(`redriven at 2026-08-18 09:00:00Z: ${ARN}`);
  });

  it('explains a refusal with redriveStatus and its reason, and points to a re-run', async () => {
    sfnMock.on(RedriveExecutionCommand).rejects(new ExecutionNotRedrivable({ message: 'Execution is not redrivable', $metadata: {} }));
    sfnMock.on(DescribeExecutionCommand).resolves(
      describeOutput({ redriveStatus: 'NOT_REDRIVABLE', redriveStatusReason: 'Execution cannot be redriven as it ended more than 14 days ago' }),
    );

    const report = await redriveExecution(target(), ARN);

    expect(report).toMatchObject({
      executionArn: ARN,
      redriven: false,
      error: 'ExecutionNotRedrivable',
      status: 'FAILED',
      redriveStatus: 'NOT_REDRIVABLE',
      redriveStatusReason: 'Execution cannot be redriven as it ended more than 14 days ago',
      ticketId: '1001',
    });
    const text = explainRedrive(report);
    expect(text).toContain('redriveStatus: NOT_REDRIVABLE (Execution cannot be redriven as it ended more than 14 days ago)');
    expect(text).toContain('attachment-vault rerun --ticket 1001');
  });

  it('says there is nothing to redrive for a succeeded execution', async () => {
    sfnMock.on(RedriveExecutionCommand).rejects(new ExecutionNotRedrivable({ message: 'Execution is not redrivable', $metadata: {} }));
    sfnMock.on(DescribeExecutionCommand).resolves(describeOutput({ status: 'SUCCEEDED', redriveStatus: 'NOT_REDRIVABLE', redriveStatusReason: 'Execution is SUCCEEDED and cannot be redriven' }));

    expect((await redriveExecution(target(), NAME)).hint).toMatch(/^it succeeded, so there is nothing to redrive/);
  });
});

describe('rerun (AWS)', () => {
  it('starts a new execution named rerun-<ticket>-<UTC stamp>-<4 hex> with {ticketId, source: "rerun"}', async () => {
    sfnMock.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
      executionArn: `arn:aws:states:eu-west-1:111122223333:execution:attachment-vault:${input.name}`,
      startDate: new Date('2026-08-17T07:40:00Z'),
    }));

    const report = await rerunOnAws(target(), '1001', new Date('2026-08-17T07:40:00Z'));

    const call = sfnMock.commandCalls(StartExecutionCommand)[0]!.args[0].input;
    expect(call.stateMachineArn).toBe(SM);
    expect(call.name).toMatch(/^rerun-1001-20260817T074000-[0-9a-f]{4}$/);
    expect(JSON.parse(call.input!)).toEqual({ ticketId: '1001', source: 'rerun' });
    expect(report).toEqual({
      executionName: call.name,
      executionArn: `arn:aws:states:eu-west-1:111122223333:execution:attachment-vault:${call.name}`,
      startDate: '2026-08-17T07:40:00.000Z',
      status: 'RUNNING',
      input: { ticketId: '1001', source: 'rerun' },
    });
  });
});
