/**
 * The archive's reading side end to end: two tickets archived through the unchanged workflow (sandbox Zendesk, fauxqs,
 * the local engine), then `archive list`, `open`, `erase` and `audit` through the cores the CLI runs, against the index
 * and audit trail the workflow wrote, with the link served by the local link gate.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { LocalRuntime } from '../../local/runtime/local.js';
import type { LocalArchive } from '../../local/runtime/archive.js';

let runtime: LocalRuntime;
let archive: LocalArchive;
let dataDir: string;
let clock = new Date();
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'vault-archive-'));
  const env: NodeJS.ProcessEnv = { ...process.env, ATTACHMENT_VAULT_DATA_DIR: dataDir };
  for (const key of ['ZENDESK_URL', 'AWS_ENDPOINT_URL_S3', 'ARCHIVE_BUCKET', 'IDEMPOTENCY_TABLE', 'ARCHIVE_INDEX_TABLE', 'NOTIFY_WEBHOOK_URL']) delete env[key];
  const { openLocal } = await import('../../local/runtime/local.js');
  const { openLocalArchive } = await import('../../local/runtime/archive.js');
  runtime = await openLocal({ env, retryIntervalMs: 0, waitMs: 0, seedDemo: false });
  archive = await openLocalArchive({ env: { ATTACHMENT_VAULT_DATA_DIR: dataDir }, now: () => clock });
});

afterAll(async () => {
  await archive?.close();
  await runtime?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('two archived tickets', () => {
  test('list, open (exact bytes, expiring within 5 minutes), erase one ticket, and the audit trail of both', async () => {
    const { runTicket } = await import('../../cli/run.js');
    const { makePng, makePdf } = await import('../../local/runtime/demo-ticket.js');
    const { listFiles, openArchivedFile } = await import('../../lambdas/viewer/open.js');
    const { eraseArchived } = await import('../../cli/archive-erase.js');
    const sandbox = runtime.sandbox!;
    const passport = makePng(6, 6, [200, 10, 10]);
    sandbox.createTicket({ id: 3001, requesterId: 777 });
    sandbox.addComment(3001, { attachments: [{ fileName: 'passport scan.png', contentType: 'image/png', data: passport }, { fileName: 'contract.pdf', contentType: 'application/pdf', data: makePdf('contract') }] });
    sandbox.createTicket({ id: 3002, requesterId: 888 });
    sandbox.addComment(3002, { attachments: [{ fileName: 'other.pdf', contentType: 'application/pdf', data: makePdf('other') }] });
    expect((await runTicket(runtime, '3001')).status).toBe('SUCCEEDED');
    expect((await runTicket(runtime, '3002')).status).toBe('SUCCEEDED');

    const files = await listFiles(archive.index, { ticketId: '3001' });
    expect(files.map((f) => [f.fileName, f.contentType, f.requesterId, typeof f.redactedAt])).toEqual([
      ['passport scan.png', 'image/png', '777', 'string'],
      ['contract.pdf', 'application/pdf', '777', 'string'],
    ]);
    expect(await listFiles(archive.index, { requesterId: '888' })).toHaveLength(1);
    expect(await listFiles(archive.index, { since: new Date(Date.now() - 60_000), until: new Date(Date.now() + 60_000) })).toHaveLength(3);

    const png = files[0]!;
    clock = new Date();
    const link = await openArchivedFile({ ...archive, now: () => clock }, { attachmentId: png.attachmentId, reason: 'identity check, case 42', actor: 'alice', action: 'open' });
    expect(Date.parse(link.expiresAt) - clock.getTime()).toBeLessThanOrEqual(300_000);
    expect(new URL(link.url).searchParams.get('X-Amz-Expires')).toBe('300');
    const served = await fetch(link.url);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-disposition')).toContain("filename*=UTF-8''passport%20scan.png");
    expect(sha256(Buffer.from(await served.arrayBuffer()))).toBe(sha256(passport));
    clock = new Date(clock.getTime() + 301_000);
    expect((await fetch(link.url)).status).toBe(403);

    const report = await eraseArchived({ ...archive, actor: 'dpo', versioned: false }, { ticketId: '3001' }, 'erasure request 7', false);
    expect(report).toEqual({ erased: files.map((f) => f.attachmentId).sort(), objects: 2 });
    const left = await archive.s3.send(new ListObjectsV2Command({ Bucket: archive.bucket, Prefix: 'tickets/' }));
    expect((left.Contents ?? []).map((o) => o.Key!.split('/')[1])).toEqual(['3002']);
    const items = await archive.index.all();
    expect(JSON.stringify(items)).not.toContain('passport');
    expect(JSON.stringify(items)).not.toContain('contract.pdf');
    expect(JSON.stringify(items)).toContain('other.pdf');
    expect(await listFiles(archive.index, { ticketId: '3001' })).toEqual([]);

    const audit = await archive.audit.query({ ticketId: '3001' });
    expect(audit.map((e) => [e.action, e.actor, e.reason])).toEqual([
      ['open', 'alice', 'identity check, case 42'],
      ['erase', 'dpo', 'erasure request 7'],
      ['erase', 'dpo', 'erasure request 7'],
    ]);
    expect(JSON.stringify(audit)).not.toMatch(/X-Amz|passport/);
  });

  test('reindex rebuilds the index from the bucket alone', async () => {
    const { reindexArchive } = await import('../../cli/archive-reindex.js');
    const before = (await archive.index.byTicket('3002'))[0]!;
    await archive.index.remove(before.attachmentId);
    const report = await reindexArchive(archive);
    expect(report).toMatchObject({ indexed: 1, removed: 0, skipped: [] });
    const rebuilt = (await archive.index.byTicket('3002'))[0]!;
    expect({ ...rebuilt, redactedAt: undefined }).toMatchObject({ ...before, redactedAt: undefined, archivedAt: expect.any(String) });
    expect(rebuilt).toMatchObject({ fileName: 'other.pdf', requesterId: '888', sha256: before.sha256, executionName: before.executionName });
  });
});
