/**
 * The local engine is as strict as Step Functions: a payload over 256 KiB fails the execution with
 * States.DataLimitExceeded (no retrier or catcher takes it), and a full history fails it too. Every other run of the
 * suite therefore proves it fits, instead of estimating it.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { PAYLOAD_LIMIT_BYTES } from '../../local/runtime/limits.js';
import { entered, openRig, runTicket, seedTicket, textFile, type FaultRig } from '../faults/harness.js';

let rig: FaultRig;

beforeAll(async () => {
  rig = await openRig();
});
afterAll(async () => rig?.close());

describe('Step Functions limits in the local engine', () => {
  test('a Task input over 256 KiB fails the execution with States.DataLimitExceeded, before the Task runs, with no retry', async () => {
    const ticket = await seedTicket(rig.sandbox, 7001, [[textFile('a.txt')]]);
    rig.beforeTask = (state, input) => {
      if (state === 'ListAttachments') (input as Record<string, unknown>).padding = 'x'.repeat(PAYLOAD_LIMIT_BYTES);
    };
    const { record } = await runTicket(rig, ticket.ticketId);
    rig.beforeTask = undefined;
    expect([record.status, record.error]).toEqual(['FAILED', 'States.DataLimitExceeded']);
    expect(record.cause).toContain("The state/task 'ListAttachments' received an input with a size");
    expect(entered(record, 'CopyAttachments')).toEqual([]);
    expect(record.events.filter((e) => e.type === 'StateRetried')).toEqual([]);
  });

  test('every run records what it measured: events as AWS counts them, and its largest payload', async () => {
    const ticket = await seedTicket(rig.sandbox, 7002, [[textFile('b.txt'), textFile('c.txt')]]);
    const { record } = await runTicket(rig, ticket.ticketId);
    expect(record.status).toBe('SUCCEEDED');
    expect(record.limits!.historyEvents).toBeGreaterThan(40);
    expect(record.limits!.largestPayloadBytes).toBeGreaterThan(100);
    expect(record.limits!.largestPayloadBytes).toBeLessThan(PAYLOAD_LIMIT_BYTES);
  });
});

describe('a full history', () => {
  let small: FaultRig;
  beforeAll(async () => {
    small = await openRig({ historyLimit: 120 });
  });
  afterAll(async () => small?.close());

  test('fails the execution (States.Runtime, "maximum number of history events")', async () => {
    const ticket = await seedTicket(small.sandbox, 7003, [Array.from({ length: 12 }, (_, i) => textFile(`f${i}.txt`))]);
    const { record } = await runTicket(small, ticket.ticketId);
    expect([record.status, record.error]).toEqual(['FAILED', 'States.Runtime']);
    expect(record.cause).toBe('The execution reached the maximum number of history events (120).');
    expect(record.events.some((e) => e.state === 'FinishTicket')).toBe(false);
  });
});
