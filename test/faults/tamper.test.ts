/**
 * The redaction step's own check, end to end: whatever happens to the object between CopyAttachments and
 * RedactVerified, or whatever key it is handed, the file is not redacted and the report says why.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { clearFaults, openRig, outcomes, zendeskStates, type FaultRig } from './harness.js';
import { expectInvariant } from './invariant.js';
import { runTampered, TAMPERS } from './tamper.js';

let rig: FaultRig;
let nextTicket = 6100;

beforeAll(async () => {
  rig = await openRig();
});
afterAll(async () => rig?.close());
afterEach(() => clearFaults(rig));

const REASONS: Record<string, string> = {
  deleted: 'not_verified: missing',
  'overwritten with other bytes': 'not_verified: readback_mismatch',
  'metadata of another attachment': 'not_verified: metadata_mismatch',
  'a different key handed in': 'not_verified: wrong_key',
};

describe('an archived copy changed before RedactVerified', () => {
  test.each(TAMPERS)('%s: no redaction call names the file, it stays in Zendesk, the report says not_verified and why', async (tamper) => {
    const run = await runTampered(rig, nextTicket++, tamper);

    expect(run.targetRedactions).toBe(0);
    expect(zendeskStates(rig, run.ticket)).toEqual(['present', 'redacted']);
    expect(outcomes(run.doc, run.ticket)).toEqual([['archived', false], ['archived', true]]);
    const reported = run.doc.summary.attachments.find((a) => a.attachmentId === String(run.target.attachmentId));
    expect(reported?.reason).toBe(REASONS[tamper]);
    expect(run.record.status).toBe('FAILED');
    expect(run.record.cause).toContain(`${run.target.attachmentId} (archived, not redacted: ${REASONS[tamper]})`);
    // The invariant holds for the untouched file; the tampered one is in Zendesk and reported not redacted.
    if (tamper === 'a different key handed in') await expectInvariant(rig, { ...run.ticket, files: [run.ticket.files[1]!] }, run.doc, run.record);
  });
});
