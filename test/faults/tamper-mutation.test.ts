/**
 * The mutation check: with the redaction step's check replaced by one that always says "verified", the tamper
 * scenarios of tamper.test.ts DO redact the file. So the tamper tests fail if anyone weakens the check: a suite that
 * stays green without the check would prove nothing.
 */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';

jest.unstable_mockModule('../../lambdas/redact-verified/check.js', () => ({
  checkCopyForRedaction: async () => ({ verified: true }),
}));

const { clearFaults, openRig } = await import('./harness.js');
const { runTampered, TAMPERS } = await import('./tamper.js');

let rig: Awaited<ReturnType<typeof openRig>>;
let nextTicket = 6200;

beforeAll(async () => {
  rig = await openRig();
});
afterAll(async () => rig?.close());

describe('with an always-true check instead of the real one', () => {
  test.each(TAMPERS)('%s: the tampered file is redacted (tamper.test.ts would fail)', async (tamper) => {
    const run = await runTampered(rig, nextTicket++, tamper);
    clearFaults(rig);
    // Deleted or overwritten, the file is now gone from Zendesk without a good copy: exactly what the check prevents.
    expect(run.targetRedactions).toBe(1);
    expect(rig.sandbox.attachment(run.target.attachmentId)?.state).toBe('redacted');
  });
});
