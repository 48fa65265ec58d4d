/** SummarizeBackfill: the report from the Map Run's results, whatever stopped it. */
import { describe, expect, test } from '@jest/globals';
import { summarizeBackfill } from '../../../lambdas/summarize-backfill/summarize.js';
import type { RunFileRef, RunFiles } from '../../../lambdas/shared/run-files.js';

function files(objects: Record<string, unknown>): RunFiles & { written: Array<[string, string, unknown]> } {
  const written: Array<[string, string, unknown]> = [];
  return {
    bucket: 'archive',
    written,
    write: async () => {
      throw new Error('not used');
    },
    read: async (ref: RunFileRef) => {
      if (!(ref.key in objects)) throw new Error(`no ${ref.key}`);
      return objects[ref.key];
    },
    writeBackfill: async (runId, name, value) => {
      written.push([runId, name, value]);
      return { bucket: 'archive', key: `backfill/${runId}/${name}` };
    },
  };
}

const mapRun = { MapRunArn: 'arn:mr', ResultWriterDetails: { Bucket: 'archive', Key: 'backfill/map-results/mr/manifest.json' } };
const results = {
  'backfill/map-results/mr/manifest.json': { ResultFiles: { SUCCEEDED: [{ Key: 'backfill/map-results/mr/SUCCEEDED_0.json' }], FAILED: [{ Key: 'backfill/map-results/mr/FAILED_0.json' }] } },
  'backfill/map-results/mr/SUCCEEDED_0.json': [{ Output: JSON.stringify({ ticketId: '1', status: 'SUCCEEDED' }) }, { Output: { ticketId: '2' } }],
  'backfill/map-results/mr/FAILED_0.json': [{ Input: JSON.stringify({ runId: 'r1', ticketId: '3' }), Error: 'States.TaskFailed' }],
};

describe('summarizeBackfill', () => {
  test('counts the succeeded and failed items, lists the failed tickets, writes the report; FAILED with a cause when any failed', async () => {
    const store = files(results);
    const report = await summarizeBackfill({ runId: 'r1', tickets: 3, mapRun }, { files: store });
    expect(report).toEqual({
      runId: 'r1',
      tickets: 3,
      succeeded: 2,
      failed: 1,
      failedTickets: ['3'],
      status: 'FAILED',
      report: { bucket: 'archive', key: 'backfill/r1/report.json' },
      cause: 'Backfill r1: 1 of 3 tickets did not end archived and redacted: 3. Re-run them (attachment-vault rerun --failed) or redrive the execution.',
    });
    expect(store.written).toEqual([['r1', 'report.json', { runId: 'r1', tickets: 3, succeeded: 2, failed: 1, failedTickets: ['3'], status: 'FAILED', failedTicketsAll: [{ ticketId: '3', error: 'States.TaskFailed' }], stopped: false }]]);
  });

  test('every item succeeded: SUCCEEDED, no cause', async () => {
    const ok = { ...results, 'backfill/map-results/mr/FAILED_0.json': [] };
    const report = await summarizeBackfill({ runId: 'r1', tickets: 2, mapRun }, { files: files(ok) });
    expect([report.status, report.succeeded, report.failed, 'cause' in report]).toEqual(['SUCCEEDED', 2, 0, false]);
  });

  test('a Map Run stopped past its tolerated failures: every ticket not known to have succeeded counts as failed', async () => {
    const report = await summarizeBackfill({ runId: 'r1', tickets: 40, mapRun: { Error: 'States.ExceedToleratedFailureThreshold', Cause: '…' } }, { files: files({}) });
    expect([report.status, report.succeeded, report.failed]).toEqual(['FAILED', 0, 40]);
    expect(report.cause).toMatch(/^The Map Run stopped: more than 10 % of the tickets failed\. Backfill r1: 40 of 40 tickets/);
  });

  test('no tickets selected (no Map Run): SUCCEEDED with nothing done', async () => {
    const report = await summarizeBackfill({ runId: 'r1', tickets: 0, mapRun: null }, { files: files({}) });
    expect([report.status, report.tickets, report.succeeded, report.failed]).toEqual(['SUCCEEDED', 0, 0, 0]);
  });
});
