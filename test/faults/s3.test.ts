/**
 * S3 misbehaving under the whole workflow, through a fault proxy in front of fauxqs: failed single and multipart
 * uploads, SlowDown throttling, a whole-run outage (the Map fails, nothing is redacted, then recovery), objects
 * already at the key that are not this file, and a copy that loses its answer after the object was written.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { DeleteItemCommand, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { describePath } from '../../local/runtime/path.js';
import {
  clearFaults,
  failures,
  firedTotal,
  keysUnder,
  objectBytes,
  objectMetadata,
  openRig,
  outcomes,
  putObject,
  retries,
  runTicket,
  s3Error,
  s3Faults,
  seedTicket,
  sha256,
  textFile,
  zendeskStates,
  type FaultRig,
} from './harness.js';
import { expectInvariant } from './invariant.js';

let rig: FaultRig;
let nextTicket = 4200;

beforeAll(async () => {
  rig = await openRig({ env: { COPY_PART_SIZE_MB: '5' } });
});
afterAll(async () => rig?.close());
afterEach(() => clearFaults(rig));

const SIX_MB = 6 * 1024 * 1024;
const large = (seed: number) => ({ fileName: `scan-${seed}.bin`, contentType: 'application/octet-stream', data: { size: SIX_MB, seed } });
/** S3 calls on the archive's objects (tickets/), not on the run's working files (runs/). */
const s3Calls = (operation: string) => rig.s3Proxy.requests.filter((r) => r.route === operation && !r.target.includes('/runs/'));

/**
 * In a versioned bucket (the stack's), every successful PutObject, CompleteMultipartUpload or CopyObject to a key is one
 * object version. The emulator keeps no versions, so the proxy counts those writes per key.
 */
function versionsWritten(prefix: string): Map<string, number> {
  const writes = new Map<string, number>();
  for (const r of rig.s3Proxy.requests) {
    if (!['PutObject', 'CompleteMultipartUpload', 'CopyObject'].includes(r.route ?? '') || r.status < 200 || r.status > 299) continue;
    const key = decodeURIComponent(r.target.split('?')[0]!.split('/').slice(2).join('/'));
    if (key.startsWith(prefix)) writes.set(key, (writes.get(key) ?? 0) + 1);
  }
  return writes;
}

/** Deletes the copy step's idempotency records, as their hour running out would. */
async function forgetCopyRecords(): Promise<void> {
  const ddb = new DynamoDBClient({ endpoint: rig.runtime.env.AWS_ENDPOINT_URL_DYNAMODB, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const table = rig.runtime.env.IDEMPOTENCY_TABLE!;
  const items = (await ddb.send(new ScanCommand({ TableName: table }))).Items ?? [];
  for (const item of items.filter((i) => i.id?.S?.startsWith('copy-attachment'))) await ddb.send(new DeleteItemCommand({ TableName: table, Key: { id: item.id! } }));
  ddb.destroy();
}

describe('one object version per archived file', () => {
  test('a one-request file and a multipart file are each written once: no copy onto itself', async () => {
    const ticket = await seedTicket(rig.sandbox, nextTicket++, [[textFile('small.txt')], [large(nextTicket)]]);
    const [small, big] = ticket.files;
    const prefix = `tickets/${ticket.ticketId}/`;

    const first = await runTicket(rig, ticket.ticketId);
    expect(outcomes(first.doc, ticket)).toEqual([['archived', true], ['archived', true]]);
    const written = versionsWritten(prefix);
    expect(Object.fromEntries(written)).toEqual({ [`${prefix}${small!.attachmentId}.txt`]: 1, [`${prefix}${big!.attachmentId}.bin`]: 1 });
    expect(s3Calls('CopyObject')).toHaveLength(0);
    expect(await objectMetadata(rig, `${prefix}${big!.attachmentId}.bin`)).toMatchObject({ checksum: 'crc32-full-object' });
    await expectInvariant(rig, ticket, first.doc, first.record);
  });

  test('a re-run after the copy records expired neither downloads nor writes a verified copy again: the index knows it', async () => {
    const ticket = await seedTicket(rig.sandbox, nextTicket++, [[textFile('again.txt')], [large(nextTicket)]]);
    const prefix = `tickets/${ticket.ticketId}/`;
    // The first run copies both files, then stops before any redaction (a credential revoked at that moment).
    rig.beforeTask = (state) => {
      if (state === 'RedactVerified') throw Object.assign(new Error('injected: credentials revoked'), { name: 'ZendeskAuthFailed' });
    };
    const first = await runTicket(rig, ticket.ticketId);
    rig.beforeTask = undefined;
    expect([first.record.status, first.record.error]).toEqual(['FAILED', 'ZendeskAuthFailed']);
    expect(Object.fromEntries(versionsWritten(prefix))).toEqual(Object.fromEntries(ticket.files.map((f, i) => [`${prefix}${f.attachmentId}.${i === 0 ? 'txt' : 'bin'}`, 1])));
    // More than the copy's idempotency hour later: its records are gone.
    await forgetCopyRecords();
    const downloadsBefore = rig.sandbox.requests.filter((r) => r.kind === 'content').length;

    const again = await runTicket(rig, ticket.ticketId);

    expect(again.record.status).toBe('SUCCEEDED');
    expect(outcomes(again.doc, ticket)).toEqual([['already_archived', true], ['already_archived', true]]);
    expect(rig.sandbox.requests.filter((r) => r.kind === 'content').length - downloadsBefore).toBe(0);
    expect(Object.values(Object.fromEntries(versionsWritten(prefix)))).toEqual([1, 1]);
    await expectInvariant(rig, ticket, again.doc, again.record);
  });
});

describe('uploads that fail', () => {
  test('PutObject failing past the SDK retries is ArchiveUnavailable; the retried iteration writes one object with the right bytes', async () => {
    const ticket = await seedTicket(rig.sandbox, nextTicket++, [[textFile('put.txt')]]);
    const [file] = ticket.files;
    const rules = s3Faults(rig, { match: { route: 'PutObject', times: 4 }, fault: s3Error(500, 'InternalError') });

    const { record, doc, notification } = await runTicket(rig, ticket.ticketId);

    expect(firedTotal(rules)).toBe(4);
    expect(record.status).toBe('SUCCEEDED');
    const failed = failures(record, 'CopyAttachment');
    expect(failed.map((e) => e.error)).toEqual(['ArchiveUnavailable']);
    expect(failed[0]!.cause).toMatch(new RegExp(`^attachment ${file!.attachmentId}: S3 \\w+ failed: InternalError \\(HTTP 500\\)$`));
    expect(await keysUnder(rig, `tickets/${ticket.ticketId}/`)).toEqual([`tickets/${ticket.ticketId}/${file!.attachmentId}.txt`]);
    expect(outcomes(doc, ticket)).toEqual([['archived', true]]);
    expect(notification).toMatchObject({ status: 'succeeded', archived: 1, redacted: 1 });
    await expectInvariant(rig, ticket, doc, record);
  });

  test.each(['UploadPart', 'CompleteMultipartUpload'])(
    'a 6 MB multipart copy whose %s fails is aborted and retried: one object, right bytes, no upload left open',
    async (operation) => {
      const ticket = await seedTicket(rig.sandbox, nextTicket++, [[large(nextTicket)]]);
      // Six failures outlast the SDK's three attempts of at least one part (two parts upload in parallel).
      const rules = s3Faults(rig, { match: { route: operation, times: 6 }, fault: s3Error(500, 'InternalError') });
      const creates = s3Calls('CreateMultipartUpload').length;
      const aborts = s3Calls('AbortMultipartUpload').length;

      const { record, doc } = await runTicket(rig, ticket.ticketId);

      expect(firedTotal(rules)).toBeGreaterThanOrEqual(3);
      expect(record.status).toBe('SUCCEEDED');
      const failed = failures(record, 'CopyAttachment');
      expect(failed.length).toBeGreaterThanOrEqual(1);
      expect(new Set(failed.map((e) => e.error))).toEqual(new Set(['ArchiveUnavailable']));
      expect(s3Calls('CreateMultipartUpload').length - creates).toBe(failed.length + 1);
      expect(s3Calls('AbortMultipartUpload').length - aborts).toBe(failed.length);
      const key = `tickets/${ticket.ticketId}/${ticket.files[0]!.attachmentId}.bin`;
      expect(await keysUnder(rig, `tickets/${ticket.ticketId}/`)).toEqual([key]);
      expect(sha256(await objectBytes(rig, key))).toBe(ticket.files[0]!.sha256);
      expect(outcomes(doc, ticket)).toEqual([['archived', true]]);
      await expectInvariant(rig, ticket, doc, record);
    },
  );

  test('SlowDown (503) throttling on uploads is retried by the SDK, then by the state machine, until the copy lands', async () => {
    const ticket = await seedTicket(rig.sandbox, nextTicket++, [[textFile('slow-a.txt'), textFile('slow-b.txt')], [large(nextTicket)]]);
    const rules = s3Faults(
      rig,
      { match: { route: 'PutObject', times: 4 }, fault: s3Error(503, 'SlowDown') },
      { match: { route: 'UploadPart', times: 2 }, fault: s3Error(503, 'SlowDown') },
    );

    const { record, doc } = await runTicket(rig, ticket.ticketId);

    expect(firedTotal(rules)).toBe(6);
    expect(record.status).toBe('SUCCEEDED');
    expect(outcomes(doc, ticket)).toEqual([['archived', true], ['archived', true], ['archived', true]]);
    await expectInvariant(rig, ticket, doc, record);
  });
});

describe('S3 unavailable for the whole run', () => {
  test('the Map fails at CopyAttachments naming the error and an attachment, nothing is redacted; once S3 is back a re-run archives everything', async () => {
    const ticket = await seedTicket(rig.sandbox, nextTicket++, [[textFile('o1.txt'), textFile('o2.txt')], [textFile('o3.txt')]]);
    const ids = ticket.files.map((f) => f.attachmentId);
    s3Faults(rig, { match: { route: /.*/, times: Infinity }, fault: s3Error(503, 'ServiceUnavailable') });

    const outage = await runTicket(rig, ticket.ticketId);

    expect(outage.record.status).toBe('FAILED');
    expect(outage.record.error).toBe('ArchiveUnavailable');
    expect(outage.record.cause).toMatch(new RegExp(`^attachment (${ids.join('|')}): S3 ListObjectsV2 failed: ServiceUnavailable \\(HTTP 503\\)$`));
    const mapFailed = outage.record.events.find((e) => e.type === 'StateFailed' && e.state === 'CopyAttachments' && e.index === undefined);
    expect(mapFailed).toMatchObject({ error: 'ArchiveUnavailable' });
    const iterationFailed = outage.record.events.filter((e) => e.type === 'MapIterationFailed');
    expect(iterationFailed.length).toBeGreaterThanOrEqual(1);
    // Every failed attempt in the history names its attachment.
    for (const e of failures(outage.record, 'CopyAttachment')) expect(ids.some((id) => e.cause?.includes(`attachment ${id}:`))).toBe(true);
    // What the console's graph shows, in words (local/runtime/path.ts): the Map, its iterations' errors, the failure.
    const path = describePath(outage.record);
    expect(path.slice(0, 3)).toEqual(['MarkTicket', 'ListAttachments', 'CopyAttachments']);
    expect(path[3]).toMatch(/^ {2}3 iterations: CopyAttachment x3; \d+ retries; errors ArchiveUnavailable x\d; \d failed$/);
    expect(path.slice(4)).toEqual(['  failed CopyAttachments: ArchiveUnavailable', `FAILED: ArchiveUnavailable: ${outage.record.cause}`]);
    expect(outage.record.events.some((e) => e.state === 'RedactVerified')).toBe(false);
    expect(rig.sandbox.redactions.filter((r) => r.ticketId === Number(ticket.ticketId))).toEqual([]);
    expect(zendeskStates(rig, ticket)).toEqual(['present', 'present', 'present']);
    expect(outage.doc.summary.attachments.map((a) => [a.outcome, a.redacted])).toEqual([['failed', false], ['failed', false], ['failed', false]]);
    // No FinishTicket, no Notify state: the FAILED execution raises the alarm and, through EventBridge, one Slack/Zapier
    // message naming the error, and release-ticket leaves the ticket vault_failed, not vault_processing.
    // No Notify state ran; the EventBridge stand-in reports the interruption with the error that stopped the run.
    expect(outage.notification).toMatchObject({ status: 'failed', interruption_error: outage.record.error, files: [] });
    expect(rig.sandbox.ticket(Number(ticket.ticketId))!.tags).toContain('vault_failed');
    expect(rig.sandbox.ticket(Number(ticket.ticketId))!.tags).not.toContain('vault_processing');
    await expectInvariant(rig, ticket, outage.doc, outage.record);

    clearFaults(rig);
    const recovery = await runTicket(rig, ticket.ticketId, `rerun-${ticket.ticketId}-1`);

    expect(recovery.record.status).toBe('SUCCEEDED');
    // An iteration the failed Map aborted keeps running to its end (as a Lambda does in AWS) and may finish the
    // copy once S3 is back: the re-run then reports that file already_archived. Either way, every file is redacted.
    for (const [outcome, redacted] of outcomes(recovery.doc, ticket)) {
      expect(['archived', 'already_archived']).toContain(outcome);
      expect(redacted).toBe(true);
    }
    expect(rig.sandbox.ticket(Number(ticket.ticketId))!.tags).toEqual(expect.arrayContaining(['vault_archived']));
    expect(rig.sandbox.ticket(Number(ticket.ticketId))!.tags).not.toContain('vault_processing');
    expect(recovery.notification).toMatchObject({ status: 'succeeded', redacted: 3 });
    const notified = recovery.notification as { archived: number; already_archived: number };
    expect(notified.archived + notified.already_archived).toBe(3);
    await expectInvariant(rig, ticket, recovery.doc, recovery.record);
  });
});

const keyOf = (ticketId: string, attachmentId: number) => `tickets/${ticketId}/${attachmentId}.txt`;

describe('an object already at the key', () => {
  test('a verified copy from an earlier run is already_archived: nothing uploaded, the file is redacted', async () => {
    const ticket = await seedTicket(rig.sandbox, nextTicket++, [[textFile('earlier.txt', 'the real bytes\n')]]);
    const [file] = ticket.files;
    const key = keyOf(ticket.ticketId, file!.attachmentId);
    const identity = { 'ticket-id': ticket.ticketId, 'comment-id': String(file!.commentId), 'attachment-id': String(file!.attachmentId) };
    await putObject(rig, key, Buffer.from('the real bytes\n'), { sha256: file!.sha256, ...identity });
    const puts = s3Calls('PutObject').length;

    const { record, doc } = await runTicket(rig, ticket.ticketId);

    expect(record.status).toBe('SUCCEEDED');
    expect(s3Calls('PutObject').length).toBe(puts);
    expect(outcomes(doc, ticket)).toEqual([['already_archived', true]]);
    await expectInvariant(rig, ticket, doc, record);
  });

  test.each([
    ['a partial write (right size, no sha256 metadata)', (real: Buffer) => ({ body: Buffer.alloc(real.length, 0x41), metadata: {} })],
    ['foreign bytes claiming the file SHA-256', (real: Buffer) => ({ body: Buffer.alloc(real.length, 0x42), metadata: { sha256: sha256(real) } })],
    ['foreign bytes of another size', () => ({ body: Buffer.from('x'), metadata: { sha256: sha256(Buffer.from('x')) } })],
    ['foreign bytes of the same size with their own consistent SHA-256', (real: Buffer) => {
      const body = Buffer.alloc(real.length, 0x43);
      return { body, metadata: { sha256: sha256(body) } };
    }],
  ])('%s is never already_archived: the file is copied over it, verified, then redacted', async (_case, make) => {
    const real = Buffer.from(`the real bytes of ticket ${nextTicket}\n`);
    const ticket = await seedTicket(rig.sandbox, nextTicket++, [[textFile('victim.txt', real.toString())]]);
    const [file] = ticket.files;
    const key = keyOf(ticket.ticketId, file!.attachmentId);
    const { body, metadata } = make(real);
    await putObject(rig, key, body, metadata);

    const { record, doc } = await runTicket(rig, ticket.ticketId);

    expect(record.status).toBe('SUCCEEDED');
    expect(outcomes(doc, ticket)).toEqual([['archived', true]]);
    expect(await objectBytes(rig, key)).toEqual(real);
    expect((await objectMetadata(rig, key)).sha256).toBe(file!.sha256);
    await expectInvariant(rig, ticket, doc, record);
  });
});

describe('a copy that loses its answer after the object was written', () => {
  test('the verification after the write fails: the retry finds the object, one object, right bytes', async () => {
    const ticket = await seedTicket(rig.sandbox, nextTicket++, [[textFile('crash.txt')]]);
    const [file] = ticket.files;
    // For a new key, the first HeadObject is the copy's verification of the object it just wrote: answered, then
    // lost, three times (the SDK's attempts), so the step fails after its write.
    const rules = s3Faults(rig, { match: { route: 'HeadObject', times: 3 }, fault: s3Error(500, 'InternalError', 'after') });
    const putsBefore = s3Calls('PutObject').length;

    const { record, doc } = await runTicket(rig, ticket.ticketId);

    expect(firedTotal(rules)).toBe(3);
    expect(record.status).toBe('SUCCEEDED');
    // A HEAD answer has no body, so the SDK cannot name the S3 error code: `Unknown (HTTP 500)`.
    expect(failures(record, 'CopyAttachment').map((e) => [e.error, e.cause])).toEqual([
      ['ArchiveUnavailable', `attachment ${file!.attachmentId}: S3 HeadObject failed: Unknown (HTTP 500)`],
    ]);
    expect(retries(record, 'CopyAttachment')).toHaveLength(1);
    expect(s3Calls('PutObject').length - putsBefore).toBe(1);
    expect(await keysUnder(rig, `tickets/${ticket.ticketId}/`)).toEqual([keyOf(ticket.ticketId, file!.attachmentId)]);
    expect(outcomes(doc, ticket)).toEqual([['already_archived', true]]);
    await expectInvariant(rig, ticket, doc, record);
  });
});
