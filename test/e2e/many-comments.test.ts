/**
 * A ticket of 1,200 comments each with a file, in the local engine as strict as Step Functions (256 KiB per state,
 * 25,000 history events), against the sandbox Zendesk with its per-ticket update budget (30 per 10 minutes; the
 * engine's shortened Waits move the sandbox clock, so a window passes at once and the waiting logic is the same):
 * 1,200 redactions, 40 windows, as many passes as the work needs. It ends archived, redacted and notified; the hard
 * rule holds for every file; no payload or history limit is near. (3,000 files over 600 comments: large-tickets.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { HISTORY_LIMIT_EVENTS } from '../../local/runtime/limits.js';
import { entered, openRig, runTicket, seedTicket, textFile, type FaultRig, type FileSeed } from '../faults/harness.js';
import { expectInvariant } from '../faults/invariant.js';

let rig: FaultRig;

beforeAll(async () => {
  rig = await openRig({ env: { MAP_MAX_CONCURRENCY: '16' } });
});
afterAll(async () => rig?.close());

const files = (comment: number, n: number): FileSeed[] => Array.from({ length: n }, (_, i) => textFile(`c${comment}-f${i}.txt`, `comment ${comment} file ${i}\n`));
const LONG = 400_000;

describe('tickets of any size', () => {
  test(
    '1,200 comments each with a file: redacted over as many passes as the budget needs, all archived and notified',
    async () => {
      const ticket = await seedTicket(rig.sandbox, 9002, Array.from({ length: 1200 }, (_, c) => files(c, 1)));
      const { record, doc, notification } = await runTicket(rig, ticket.ticketId);

      expect([record.status, record.error]).toEqual(['SUCCEEDED', undefined]);
      expect(entered(record, 'CopyAttachmentsAtScale')).toHaveLength(1);
      const passes = entered(record, 'RedactVerified').length;
      // 1,200 comment redactions at 30 per window: at least 40 passes, more than the 12 this loop used to stop at.
      expect(passes).toBeGreaterThanOrEqual(40);
      expect(notification).toMatchObject({ status: 'succeeded', archived: 1200, redacted: 1200, redaction_passes: passes, comments_left: 0 });
      // While it waited, every pass said how much was left and how long it would take.
      const waits = record.events.filter((e) => e.type === 'StateExited' && e.state === 'RedactVerified' && (e.output as { redaction?: { done?: boolean } }).redaction?.done === false);
      const first = (waits[0]!.output as { redaction: { commentsLeft: number; projectedSeconds: number; maxPasses: number } }).redaction;
      expect(first.commentsLeft).toBeGreaterThan(1100);
      expect(first.projectedSeconds).toBeGreaterThan(35 * 600);
      expect(first.maxPasses).toBe(2 * 40 + 3);
      expect(record.limits!.historyEvents).toBeLessThan(HISTORY_LIMIT_EVENTS / 2);
      expect(record.limits!.largestPayloadBytes).toBeLessThan(8 * 1024);
      await expectInvariant(rig, ticket, doc, record);
    },
    LONG,
  );
});
