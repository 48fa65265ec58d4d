/**
 * Metrics through Powertools (EMF): an invocation of a step writes one EMF line on stdout, with the metrics its work
 * recorded (the request budget's takes and refusals included), the service and traffic as dimensions, and nothing
 * that identifies a ticket, a file or an execution. Metrics are on for this file only (setup-env turns them off).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, jest, test } from '@jest/globals';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

type Modules = {
  step: typeof import('../../../lambdas/shared/step.js');
  metrics: typeof import('../../../lambdas/shared/metrics.js');
  budget: typeof import('../../../lambdas/shared/request-budget.js');
};

let m: Modules;
let lines: string[] = [];
let spy: ReturnType<typeof jest.spyOn>;

beforeAll(async () => {
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  spy = jest.spyOn(process.stdout, 'write').mockImplementation(((chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter((l) => l.trim()));
    return true;
  }) as never);
  m = {
    step: await import('../../../lambdas/shared/step.js'),
    metrics: await import('../../../lambdas/shared/metrics.js'),
    budget: await import('../../../lambdas/shared/request-budget.js'),
  };
});
afterAll(() => {
  spy.mockRestore();
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
});
beforeEach(() => {
  lines = [];
});

/** A DynamoDB document client over an empty table: the budget's conditional ADDs, refused once a window is full. */
function emptyTable(): never {
  const used = new Map<string, number>();
  return {
    send: async (command: { input: { Key: { id: string }; ConditionExpression?: string; ExpressionAttributeValues: Record<string, number> } }) => {
      const { Key, ConditionExpression, ExpressionAttributeValues: values } = command.input;
      const now = used.get(Key.id) ?? 0;
      if (ConditionExpression && values[':cap'] !== undefined && now >= values[':cap']) {
        throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
      }
      used.set(Key.id, now + (values[':by'] ?? values[':one'] ?? 0));
      return {};
    },
  } as never;
}

interface Emf {
  _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }> };
  [key: string]: unknown;
}

const TICKET = '987654321';
const FILE_NAME = 'Quarterly salaries.xlsx';
const EXECUTION = `bf-20261206T231500-a1b2-${TICKET}`;

describe('metrics', () => {
  test('one invocation writes one EMF line: its files, bytes, lag and budget, by service and traffic, and no ID or file name', async () => {
    const { step, metrics, budget } = m;
    // 6 a minute: a 10 s window allows one request, so the second take is refused.
    const requests = budget.dynamoRequestBudget(emptyTable(), 'budget', { requestsPerMinute: 6, backfillShare: 1 }, () => 1_000_000);
    const handler = step.step('CopyAttachment', async (event: { fileName: string }) => {
      await requests.take();
      await requests.take().catch(() => undefined);
      metrics.countCopy('archived', 2048);
      metrics.countCopy('skipped');
      metrics.recordRedactionLag(12.5);
      return event.fileName.length;
    });
    await handler({ ticketId: TICKET, executionName: EXECUTION, fileName: FILE_NAME } as never);

    expect(lines).toHaveLength(1);
    const emf = JSON.parse(lines[0]!) as Emf;
    const [directive] = emf._aws.CloudWatchMetrics;
    expect(directive!.Namespace).toBe('AttachmentVault');
    expect(directive!.Dimensions).toEqual([['service', 'Traffic']]);
    expect(Object.fromEntries(directive!.Metrics.map((x) => [x.Name, x.Unit]))).toEqual({
      FilesArchived: 'Count',
      BytesArchived: 'Bytes',
      FilesSkipped: 'Count',
      RedactionLagSeconds: 'Seconds',
      BudgetRequestsUsed: 'Count',
      BudgetRequestsRefused: 'Count',
    });
    expect(emf).toMatchObject({ service: 'attachment-vault', Traffic: 'backfill', FilesArchived: 1, BytesArchived: 2048, FilesSkipped: 1, RedactionLagSeconds: 12.5, BudgetRequestsUsed: 1, BudgetRequestsRefused: 1 });
    for (const secret of [TICKET, FILE_NAME, EXECUTION, 'Quarterly']) expect(lines[0]).not.toContain(secret);
  });

  test('a failed invocation still publishes what it recorded; one that recorded nothing writes nothing', async () => {
    const { step, metrics } = m;
    const failing = step.step('CollectCopies', async () => {
      metrics.countFailedFiles(3);
      throw new Error('boom');
    });
    await expect(failing({ ticketId: TICKET, executionName: `zd-${TICKET}-x` } as never)).rejects.toThrow('boom');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ Traffic: 'live', FilesFailed: 3 });

    lines = [];
    await step.step('MarkTicket', async () => 'nothing counted')({ ticketId: TICKET } as never);
    expect(lines).toEqual([]);
  });

  test("the backfill's own execution (backfill-<runId>) counts as backfill: SummarizeBackfill's tickets done and failed", async () => {
    const { step, metrics } = m;
    await step.step('SummarizeBackfill', async () => metrics.countBackfillTickets(97, 3))({ runId: 'r1', executionName: 'backfill-r1' } as never);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ Traffic: 'backfill', BackfillTicketsDone: 97, BackfillTicketsFailed: 3 });
  });
});
