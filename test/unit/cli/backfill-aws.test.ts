/**
 * `backfill start|status|throttle|redrive` and `rerun --failed` against the Step Functions API (aws-sdk-client-mock):
 * the run is the execution backfill-<runId> of the backfill machine, its tickets the Map Run's item counts, its
 * requests the budget's taken counter.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from '@jest/globals';
import {
  DescribeExecutionCommand,
  DescribeMapRunCommand,
  ExecutionDoesNotExist,
  ExecutionLimitExceeded,
  ExecutionNotRedrivable,
  ListExecutionsCommand,
  ListMapRunsCommand,
  RedriveExecutionCommand,
  SFNClient,
  StartExecutionCommand,
  UpdateMapRunCommand,
  type ExecutionStatus,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import {
  backfillAwsCommand,
  backfillStatus,
  MAP_RUN_REDRIVE,
  progressLine,
  runIdOf,
  startBackfill,
  startOptionsOf,
  type BackfillIo,
  type BudgetCounts,
  type BackfillTarget,
} from '../../../cli/backfill-aws.js';
import { awsTarget, rerunOnAws, ticketIdOfName } from '../../../cli/executions.js';
import { planRerun, rerunFailed } from '../../../cli/rerun-failed.js';
import { ExecutionHistory } from '../../../local/runtime/history.js';

const sfnMock = mockClient(SFNClient);
const BF = 'arn:aws:states:eu-west-1:111122223333:stateMachine:AttachmentVault-backfill';
const SM = 'arn:aws:states:eu-west-1:111122223333:stateMachine:attachment-vault';
const RUN = '20261206T231500-a1b2';
const RUN_ARN = `arn:aws:states:eu-west-1:111122223333:execution:AttachmentVault-backfill:backfill-${RUN}`;
const MAP_RUN = `arn:aws:states:eu-west-1:111122223333:mapRun:AttachmentVault-backfill/BackfillTickets:abc`;
const sfn = () => new SFNClient({ region: 'eu-west-1' });
const target = (taken?: Partial<BudgetCounts>): BackfillTarget => ({ sfn: sfn(), stateMachineArn: BF, ...(taken ? { budgetTaken: async () => ({ live: 0, backfill: 0, liveRefused: 0, backfillRefused: 0, ...taken }) } : {}) });

beforeEach(() => {
  sfnMock.reset();
});

function io(env: NodeJS.ProcessEnv = { BACKFILL_STATE_MACHINE_ARN: BF }) {
  const out = { json: [] as unknown[], lines: [] as string[], log: [] as string[], progress: [] as string[], sleeps: [] as number[] };
  const value: BackfillIo = {
    printJson: (d) => out.json.push(d),
    printLine: (l) => out.lines.push(l),
    log: (l) => out.log.push(l),
    progress: (l) => out.progress.push(l),
    env,
    sfn: sfn(),
    sleep: async (ms) => {
      out.sleeps.push(ms);
    },
  };
  return { io: value, out };
}

describe('backfill start', () => {
  it('starts backfill-<runId> with the input Begin requires and the budget counter, and prints the run with its console link', async () => {
    sfnMock.on(StartExecutionCommand).callsFake((input: { name: string }) => ({ executionArn: `${BF.replace(':stateMachine:', ':execution:')}:${input.name}`, startDate: new Date('2026-12-06T23:15:00Z') }));
    const report = await startBackfill(target({ backfill: 420, live: 9000 }), { since: '2024-01-01', until: '2025-01-01', query: 'brand:7', maxConcurrency: 25 }, new Date('2026-12-06T23:15:00Z'));
    expect(report.runId).toMatch(/^20261206T231500-[0-9a-f]{4}$/);
    expect(report.executionName).toBe(`backfill-${report.runId}`);
    const call = sfnMock.commandCalls(StartExecutionCommand)[0]!.args[0].input;
    expect(call.stateMachineArn).toBe(BF);
    expect(call.name).toBe(report.executionName);
    expect(JSON.parse(call.input!)).toEqual({ runId: report.runId, since: '2024-01-01', until: '2025-01-01', query: 'brand:7', maxConcurrency: 25, budgetTakenAtStart: 420 });
    expect(report.consoleUrl).toBe(`https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/${report.executionArn}`);
    expect(report.status).toBe('RUNNING');
  });

  it("the local backfill's flags: defaults (since 2007-01-01, until tomorrow, BACKFILL_MAX_CONCURRENCY else 10) and usage errors", () => {
    const now = new Date('2026-12-06T10:00:00Z');
    expect(startOptionsOf({}, {}, now)).toEqual({ since: '2007-01-01', until: '2026-12-07', query: '', maxConcurrency: 10 });
    expect(startOptionsOf({}, { BACKFILL_MAX_CONCURRENCY: '40' }, now).maxConcurrency).toBe(40);
    expect(startOptionsOf({ 'max-concurrency': '3' }, { BACKFILL_MAX_CONCURRENCY: '40' }, now).maxConcurrency).toBe(3);
    for (const bad of [{ since: '2024-13-01' }, { until: '2024-01-01', since: '2024-01-01' }, { query: 'created>2024-01-01' }, { query: 'type:user' }, { 'max-concurrency': '0' }, { 'max-concurrency': '1.5' }]) {
      expect(() => startOptionsOf(bad, {}, now)).toThrow(expect.objectContaining({ name: 'UsageError' }));
    }
  });

  it('the command prints the JSON document; without the machine it is a configuration error', async () => {
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: RUN_ARN, startDate: new Date() });
    const { io: ok, out } = io();
    await expect(backfillAwsCommand('start', ['--since', '2024-01-01', '--until', '2024-02-01', '--json'], ok)).resolves.toBe(0);
    expect(out.json[0]).toMatchObject({ executionArn: RUN_ARN, input: { since: '2024-01-01', until: '2024-02-01', query: '', maxConcurrency: 10 } });
    expect(out.log[0]).toContain('backfill status');
    await expect(backfillAwsCommand('start', [], io({}).io)).rejects.toMatchObject({ name: 'ConfigurationError' });
    await expect(backfillAwsCommand('start', ['--watch'], ok)).rejects.toMatchObject({ name: 'UsageError' });
  });
});

describe('backfill status', () => {
  const started = new Date('2026-12-06T23:15:00Z');
  const input = { runId: RUN, since: '2024-01-01', until: '2025-01-01', query: '', maxConcurrency: 10, budgetTakenAtStart: 1000 };

  it('tickets done / failed / remaining from the Map Run, the requests since the start from the budget, an ETA at the rate so far', async () => {
    sfnMock.on(DescribeExecutionCommand, { executionArn: RUN_ARN }).resolves({ executionArn: RUN_ARN, stateMachineArn: BF, status: 'RUNNING', startDate: started, input: JSON.stringify(input) });
    sfnMock.on(ListMapRunsCommand, { executionArn: RUN_ARN }).resolves({ mapRuns: [{ executionArn: RUN_ARN, mapRunArn: MAP_RUN, stateMachineArn: BF, startDate: new Date('2026-12-06T23:20:00Z') }] });
    sfnMock.on(DescribeMapRunCommand, { mapRunArn: MAP_RUN }).resolves({
      mapRunArn: MAP_RUN,
      executionArn: RUN_ARN,
      status: 'RUNNING',
      startDate: new Date('2026-12-06T23:20:00Z'),
      maxConcurrency: 20,
      toleratedFailurePercentage: 10,
      toleratedFailureCount: 0,
      itemCounts: { pending: 870, running: 10, succeeded: 115, failed: 3, timedOut: 1, aborted: 1, total: 1000, resultsWritten: 0 },
      executionCounts: { pending: 0, running: 0, succeeded: 0, failed: 0, timedOut: 0, aborted: 0, total: 0, resultsWritten: 0 },
    });
    // 120 tickets finished in 10 minutes: 880 left take 73 more.
    const report = await backfillStatus(target({ backfill: 6400, live: 20000, backfillRefused: 12 }), RUN, new Date('2026-12-06T23:30:00Z'));
    expect(report).toMatchObject({
      runId: RUN,
      status: 'RUNNING',
      phase: 'tickets',
      maxConcurrency: 20,
      mapRunArn: MAP_RUN,
      tickets: { total: 1000, done: 115, failed: 5, remaining: 880, running: 10 },
      requests: { used: 5400, backfillTotal: 6400, liveTotal: 20000, backfillRefused: 12 },
      etaSeconds: 4400,
      eta: '2026-12-07T00:43:20.000Z',
    });
    expect(progressLine(report)).toBe(`backfill ${RUN}: 115/1000 tickets done, 5 failed, 880 remaining, 5400 requests, ETA 1h 13m`);
  });

  it('before the Map Run it is selecting (no counts, no ETA); without the budget table the requests are unknown; an unknown run is ExecutionDoesNotExist', async () => {
    sfnMock.on(DescribeExecutionCommand).resolves({ executionArn: RUN_ARN, stateMachineArn: BF, status: 'RUNNING', startDate: started, input: JSON.stringify(input) });
    sfnMock.on(ListMapRunsCommand).resolves({ mapRuns: [] });
    const report = await backfillStatus(target(), `backfill-${RUN}`);
    expect(report).toMatchObject({ phase: 'selecting', tickets: null, requests: null, etaSeconds: null, maxConcurrency: 10 });
    expect(progressLine(report)).toBe(`backfill ${RUN}: selecting tickets`);
    sfnMock.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'no', $metadata: {} }));
    await expect(backfillStatus(target(), 'nope')).rejects.toMatchObject({ name: 'ExecutionDoesNotExist' });
  });

  it('--watch refreshes until the run ends, drawing the progress line, and exits with the outcome', async () => {
    sfnMock
      .on(DescribeExecutionCommand)
      .resolvesOnce({ executionArn: RUN_ARN, stateMachineArn: BF, status: 'RUNNING', startDate: started, input: JSON.stringify(input) })
      .resolves({ executionArn: RUN_ARN, stateMachineArn: BF, status: 'SUCCEEDED', startDate: started, stopDate: new Date(), input: JSON.stringify(input) });
    sfnMock.on(ListMapRunsCommand).resolves({ mapRuns: [{ executionArn: RUN_ARN, mapRunArn: MAP_RUN, stateMachineArn: BF, startDate: started }] });
    sfnMock.on(DescribeMapRunCommand).resolves({ mapRunArn: MAP_RUN, status: 'SUCCEEDED', itemCounts: { total: 4, succeeded: 4 } } as never);
    const { io: watching, out } = io();
    await expect(backfillAwsCommand('status', [RUN, '--watch', '--json'], watching)).resolves.toBe(0);
    expect(out.progress).toHaveLength(2);
    expect(out.sleeps).toEqual([15_000]);
    expect(out.json[0]).toMatchObject({ status: 'SUCCEEDED', phase: 'ended', tickets: { done: 4, remaining: 0 } });
  });
});

describe('backfill throttle', () => {
  it("UpdateMapRun on the run's Map Run with the new concurrency", async () => {
    sfnMock.on(ListMapRunsCommand).resolves({ mapRuns: [{ executionArn: RUN_ARN, mapRunArn: MAP_RUN, stateMachineArn: BF, startDate: new Date() }] });
    sfnMock.on(DescribeMapRunCommand).resolves({ mapRunArn: MAP_RUN, status: 'RUNNING', maxConcurrency: 20 } as never);
    sfnMock.on(UpdateMapRunCommand).resolves({});
    const { io: ok, out } = io();
    await expect(backfillAwsCommand('throttle', [RUN, '--max-concurrency', '5'], ok)).resolves.toBe(0);
    expect(sfnMock.commandCalls(UpdateMapRunCommand)[0]!.args[0].input).toEqual({ mapRunArn: MAP_RUN, maxConcurrency: 5 });
    expect(out.json[0]).toEqual({ runId: RUN, mapRunArn: MAP_RUN, maxConcurrency: 5, previousMaxConcurrency: 20 });
  });

  it('no Map Run yet, or one that ended: exit 1 and nothing updated; no --max-concurrency is a usage error', async () => {
    sfnMock.on(ListMapRunsCommand).resolves({ mapRuns: [] });
    const { io: none, out } = io();
    await expect(backfillAwsCommand('throttle', [RUN, '--max-concurrency', '5'], none)).resolves.toBe(1);
    expect(out.json[0]).toMatchObject({ throttled: false, error: 'MapRunNotFound' });
    sfnMock.on(ListMapRunsCommand).resolves({ mapRuns: [{ executionArn: RUN_ARN, mapRunArn: MAP_RUN, stateMachineArn: BF, startDate: new Date() }] });
    sfnMock.on(DescribeMapRunCommand).resolves({ mapRunArn: MAP_RUN, status: 'SUCCEEDED' } as never);
    await expect(backfillAwsCommand('throttle', [RUN, '--max-concurrency', '5'], none)).resolves.toBe(1);
    expect(sfnMock.commandCalls(UpdateMapRunCommand)).toHaveLength(0);
    await expect(backfillAwsCommand('throttle', [RUN], none)).rejects.toMatchObject({ name: 'UsageError' });
  });
});

describe('backfill redrive', () => {
  it('RedriveExecution of backfill-<runId>, saying what the Map Run redrive does for failed tickets', async () => {
    sfnMock.on(RedriveExecutionCommand, { executionArn: RUN_ARN }).resolves({ redriveDate: new Date('2026-12-07T08:00:00Z') });
    const { io: ok, out } = io();
    await expect(backfillAwsCommand('redrive', [RUN], ok)).resolves.toBe(0);
    expect(out.json[0]).toEqual({ runId: RUN, executionArn: RUN_ARN, redriven: true, redriveDate: '2026-12-07T08:00:00.000Z', mapRun: MAP_RUN_REDRIVE });
    expect(MAP_RUN_REDRIVE).toContain('rerun --failed');
  });

  it('a refusal is explained from DescribeExecution, exit 1', async () => {
    sfnMock.on(RedriveExecutionCommand).rejects(new ExecutionNotRedrivable({ message: 'Execution is SUCCEEDED', $metadata: {} }));
    sfnMock.on(DescribeExecutionCommand).resolves({ executionArn: RUN_ARN, stateMachineArn: BF, status: 'SUCCEEDED', startDate: new Date() });
    const { io: refused, out } = io();
    await expect(backfillAwsCommand('redrive', [RUN], refused)).resolves.toBe(1);
    expect(out.json[0]).toMatchObject({ redriven: false, error: 'ExecutionNotRedrivable', status: 'SUCCEEDED', hint: expect.stringContaining('succeeded') });
  });

  it('run IDs: the ID, the execution name or its ARN; anything else is a usage error', () => {
    expect(runIdOf(RUN)).toBe(RUN);
    expect(runIdOf(`backfill-${RUN}`)).toBe(RUN);
    expect(runIdOf(RUN_ARN)).toBe(RUN);
    expect(() => runIdOf('a b')).toThrow(expect.objectContaining({ name: 'UsageError' }));
  });
});

describe('rerun --failed', () => {
  const row = (name: string, status: string, startDate: string) => ({ name, executionArn: `${SM.replace(':stateMachine:', ':execution:')}:${name}`, status, startDate, ...(ticketIdOfName(name) ? { ticketId: ticketIdOfName(name)! } : {}) });

  it("the ticket's latest execution decides: failed, timed out or aborted is re-run; running or succeeded since is skipped", () => {
    const rows = [
      row('rerun-3-20261207T090000-aaaa', 'SUCCEEDED', '2026-12-07T09:00:00Z'),
      row('zd-4-1', 'RUNNING', '2026-12-07T08:30:00Z'),
      row('zd-5-1', 'ABORTED', '2026-12-07T08:00:00Z'),
      row(`bf-${RUN}-2`, 'FAILED', '2026-12-07T07:00:00Z'),
      row('zd-3-1', 'TIMED_OUT', '2026-12-07T06:00:00Z'),
      row('zd-4-0', 'FAILED', '2026-12-07T05:00:00Z'),
      row('zd-6-1', 'SUCCEEDED', '2026-12-07T04:00:00Z'),
      row('zd-1-1', 'FAILED', '2026-12-07T03:00:00Z'),
    ];
    const plan = planRerun(rows);
    expect(plan.rerun.map((c) => [c.ticketId, c.latest.status])).toEqual([['1', 'FAILED'], ['2', 'FAILED'], ['5', 'ABORTED']]);
    expect(plan.skipped).toEqual([
      { ticketId: '3', reason: 'succeeded_since', latestExecution: 'rerun-3-20261207T090000-aaaa', status: 'SUCCEEDED' },
      { ticketId: '4', reason: 'running', latestExecution: 'zd-4-1', status: 'RUNNING' },
    ]);
  });

  it('on AWS: lists the window (newest first, stopping at --since), starts one rerun-<ticket> execution per failed ticket at the bounded pace, reports refusals', async () => {
    const since = new Date('2026-12-07T00:00:00Z');
    const listed = (rows: Array<ReturnType<typeof row>>) => rows.map((r) => ({ name: r.name, executionArn: r.executionArn, status: r.status as ExecutionStatus, stateMachineArn: SM, startDate: new Date(r.startDate) }));
    sfnMock
      .on(ListExecutionsCommand)
      .resolvesOnce({ executions: listed([row('zd-11-1', 'FAILED', '2026-12-07T10:00:00Z'), row(`bf-${RUN}-12`, 'TIMED_OUT', '2026-12-07T09:00:00Z')]), nextToken: 'next' })
      .resolves({ executions: listed([row('zd-13-1', 'FAILED', '2026-12-07T08:00:00Z'), row('zd-14-1', 'FAILED', '2026-12-06T08:00:00Z')]) });
    sfnMock
      .on(StartExecutionCommand)
      .callsFake((input: { name: string }) => {
        if (input.name.startsWith('rerun-12-')) throw new ExecutionLimitExceeded({ message: 'too many', $metadata: {} });
        return { executionArn: `arn:aws:states:eu-west-1:111122223333:execution:attachment-vault:${input.name}`, startDate: new Date() };
      });
    const t = awsTarget({ stateMachineArn: SM, sfn: sfn() }, {});
    const sleeps: number[] = [];
    const progress: string[] = [];
    const report = await rerunFailed(t, since, { startsPerMinute: 30 }, {
      rerun: (ticketId) => rerunOnAws(t, ticketId),
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      onProgress: (done, total) => progress.push(`${done}/${total}`),
    });
    // Ticket 14 failed before the window: not re-run.
    expect(report.failedTickets).toBe(3);
    expect(report.started.map((s) => s.ticketId)).toEqual(['13', '11']);
    expect(report.started[0]).toMatchObject({ executionName: expect.stringMatching(/^rerun-13-/), failedExecution: 'zd-13-1', failedStatus: 'FAILED' });
    expect(report.refused).toEqual([{ ticketId: '12', error: 'ExecutionLimitExceeded', message: 'too many' }]);
    expect(sleeps).toEqual([2000, 2000]);
    expect(progress).toEqual(['1/3', '2/3', '3/3']);
    const inputs = sfnMock.commandCalls(StartExecutionCommand).map((c) => JSON.parse(c.args[0].input.input!));
    expect(inputs).toEqual([{ ticketId: '13', source: 'rerun' }, { ticketId: '12', source: 'rerun' }, { ticketId: '11', source: 'rerun' }]);
  });

  it("locally: the local engine's histories, the reruns one after the other with how each ended", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'av-rerun-'));
    try {
      const history = new ExecutionHistory(dir);
      const record = (name: string, ticketId: string, status: 'FAILED' | 'SUCCEEDED', startDate: string) =>
        history.save({ executionName: name, executionArn: `arn:aws:states:us-east-1:000000000000:execution:local:${name}`, stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:local', status, input: { ticketId, source: 'webhook' }, startDate, stopDate: startDate, events: [] } as never);
      await record('zd-21-1', '21', 'FAILED', new Date(Date.now() - 3_600_000).toISOString());
      await record('zd-22-1', '22', 'SUCCEEDED', new Date(Date.now() - 3_600_000).toISOString());
      await record('zd-23-1', '23', 'FAILED', new Date(Date.now() - 10 * 86_400_000).toISOString());
      const ran: string[] = [];
      const report = await rerunFailed({ kind: 'local', historyDir: dir }, new Date(Date.now() - 7 * 86_400_000), { startsPerMinute: 30 }, {
        rerun: async (ticketId) => {
          ran.push(ticketId);
          return { executionName: `rerun-${ticketId}-x`, status: 'SUCCEEDED' };
        },
        sleep: async () => {
          throw new Error('local reruns run one after the other, without a pace');
        },
      });
      expect(ran).toEqual(['21']);
      expect(report).toMatchObject({ source: 'local', failedTickets: 1, started: [{ ticketId: '21', executionName: 'rerun-21-x', status: 'SUCCEEDED', failedExecution: 'zd-21-1' }], skipped: [], refused: [] });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
