/**
 * Tickets of any size, in the local engine as strict as Step Functions (256 KiB per state, 25,000 history events),
 * against the sandbox Zendesk with its per-ticket update budget (30 per 10 minutes; the engine's shortened Waits move
 * the sandbox clock, so a window passes at once and the waiting logic is the same):
 * - 3,000 files over 600 comments: more files than fit the state, so they are copied in the Distributed Map (the lists in
 *   the run's files in S3), and 600 comment redactions take 20 budget windows;
 * (1,200 comments each with a file: many-comments.test.ts, a file of its own so that the two run side by side.)
 * It ends archived, redacted and notified; the hard rule holds for every file; no payload or history limit is near.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { HISTORY_LIMIT_EVENTS, PAYLOAD_LIMIT_BYTES } from '../../local/runtime/limits.js';
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
    '3,000 small files over 600 comments: copied in the Distributed Map, all archived, redacted over 20 windows, notified',
    async () => {
      const ticket = await seedTicket(rig.sandbox, 9001, Array.from({ length: 600 }, (_, c) => files(c, 5)));
      const { record, doc, notification } = await runTicket(rig, ticket.ticketId);

      expect([record.status, record.error]).toEqual(['SUCCEEDED', undefined]);
      expect(entered(record, 'CopyAttachmentsAtScale')).toHaveLength(1);
      expect(entered(record, 'CopyAttachments')).toEqual([]);
      expect(doc.summary.attachments).toHaveLength(3000);
      expect(notification).toMatchObject({ status: 'succeeded', archived: 3000, redacted: 3000, total_files: 3000, comments_left: 0 });
      expect(notification!.redaction_passes).toBeGreaterThanOrEqual(20);
      // The state never carries the lists: the parent's largest payload stays tiny, the history short.
      const limits = record.limits!;
      expect(limits.childExecutions).toBe(3000);
      expect(limits.largestPayloadBytes).toBeLessThan(8 * 1024);
      expect(limits.historyEvents).toBeLessThan(HISTORY_LIMIT_EVENTS / 20);
      expect(limits.largestChildPayloadBytes).toBeLessThan(PAYLOAD_LIMIT_BYTES);
      await expectInvariant(rig, ticket, doc, record);
    },
    LONG,
  );
});
