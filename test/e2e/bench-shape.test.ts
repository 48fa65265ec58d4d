/**
 * The request-counting part of `npm run bench`, for the smallest ticket: one file in one comment through the
 * whole workflow in the local engine. Counts, never timings: the sandbox Zendesk must see exactly the design's
 * minimum (bench/workflow.ts designMinimum) and nothing else.
 */
import type { BenchRuntime } from '../../bench/workflow.js';

let bench: BenchRuntime;
let workflow: typeof import('../../bench/workflow.js');

beforeAll(async () => {
  workflow = await import('../../bench/workflow.js');
  bench = await workflow.openBenchRuntime();
});

afterAll(async () => {
  await bench?.close();
});

describe('bench: Zendesk requests per ticket', () => {
  test('a 1-file, 1-comment ticket costs exactly the design minimum of Zendesk requests', async () => {
    const run = await workflow.countedRun(bench.runtime, bench.sandbox, { attachments: 1, comments: 1 });

    expect(run.status).toBe('SUCCEEDED');
    expect(run.archived).toBe(1);
    expect(run.redacted).toBe(1);
    expect(workflow.designMinimum({ attachments: 1, comments: 1 })).toEqual({
      'ticket.get': 2,
      'comments.list': 3,
      'attachment.get': 1,
      download: 1,
      content: 1,
      redaction: 1,
      'ticket.update': 2,
    });
    expect(run.counts).toEqual(run.minimum);
    expect(run.excess).toEqual({});
    expect(run.transitions).toBe(workflow.minimumTransitions(1));
  });
});
