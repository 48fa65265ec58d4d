/**
 * The real workflow end to end: the unchanged ASL in the local engine, every handler in-process, over real
 * HTTP against the sandbox Zendesk and embedded S3 (fauxqs) and DynamoDB (dynalite).
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { LocalRuntime } from '../../local/runtime/local.js';
import type { RunDocument } from '../../cli/run.js';

let runtime: LocalRuntime;
let s3: S3Client;
let dataDir: string;
let runTicket: (runtime: LocalRuntime, ticketId: string, source?: 'cli' | 'rerun') => Promise<RunDocument>;
let makePdf: (text: string) => Buffer;
let makePng: (w: number, h: number, rgb: [number, number, number]) => Buffer;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'vault-e2e-'));
  const env: NodeJS.ProcessEnv = { ...process.env, ATTACHMENT_VAULT_DATA_DIR: dataDir };
  for (const key of ['ZENDESK_URL', 'AWS_ENDPOINT_URL_S3', 'ARCHIVE_BUCKET', 'IDEMPOTENCY_TABLE', 'NOTIFY_WEBHOOK_URL']) delete env[key];
  const { openLocal } = await import('../../local/runtime/local.js');
  ({ runTicket } = await import('../../cli/run.js'));
  ({ makePdf, makePng } = await import('../../local/runtime/demo-ticket.js'));
  runtime = await openLocal({ env, retryIntervalMs: 0, waitMs: 0, persistS3: false, seedDemo: false });
  s3 = new S3Client({ endpoint: runtime.env.AWS_ENDPOINT_URL_S3, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
});

afterAll(async () => {
  s3?.destroy();
  await runtime?.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function objectBytes(key: string): Promise<Buffer> {
  const response = await s3.send(new GetObjectCommand({ Bucket: runtime.env.ARCHIVE_BUCKET, Key: key }));
  return Buffer.from(await response.Body!.transformToByteArray());
}

async function keysUnder(prefix: string): Promise<string[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: runtime.env.ARCHIVE_BUCKET, Prefix: prefix }));
  return (listed.Contents ?? []).map((o) => o.Key!).sort();
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('one ticket through the whole workflow', () => {
  test('archives every file (named, extension-less, inline), verifies, redacts only verified copies, tags and reports', async () => {
    const sandbox = runtime.sandbox!;
    const pdf = makePdf('bank slip');
    const png = makePng(8, 8, [1, 2, 3]);
    const bare = makePdf('no extension');
    const inline = makePng(4, 4, [9, 9, 9]);
    sandbox.createTicket({ id: 2001, status: 'open', tags: ['vault_archive'] });
    const c1 = sandbox.addComment(2001, { attachments: [{ fileName: 'Bank Slip.PDF', contentType: 'application/pdf', data: pdf }, { fileName: 'id-front', contentType: 'application/octet-stream', data: png }] });
    const c2 = sandbox.addComment(2001, { attachments: [{ fileName: 'form', contentType: 'application/octet-stream', data: bare }, { fileName: 'image.png', contentType: 'image/png', data: inline, inline: true }] });
    const ids = [...c1.attachments, ...c2.attachments].map((a) => a.id);

    const result = await runTicket(runtime, '2001');

    expect(result.status).toBe('SUCCEEDED');
    expect(result.summary.ticketId).toBe('2001');
    expect(result.summary.attachments.map((a) => [a.attachmentId, a.outcome, a.s3Key, a.redacted])).toEqual([
      [String(ids[0]), 'archived', `tickets/2001/${ids[0]}.pdf`, true],
      [String(ids[1]), 'archived', `tickets/2001/${ids[1]}.png`, true],
      [String(ids[2]), 'archived', `tickets/2001/${ids[2]}.pdf`, true],
      [String(ids[3]), 'archived', `tickets/2001/${ids[3]}.png`, true],
    ]);
    // S3 holds the exact bytes, with the audit metadata.
    expect(sha256(await objectBytes(`tickets/2001/${ids[0]}.pdf`))).toBe(sha256(pdf));
    expect(sha256(await objectBytes(`tickets/2001/${ids[1]}.png`))).toBe(sha256(png));
    const head = await s3.send(new HeadObjectCommand({ Bucket: runtime.env.ARCHIVE_BUCKET, Key: `tickets/2001/${ids[0]}.pdf` }));
    expect(head.Metadata).toMatchObject({ 'ticket-id': '2001', 'attachment-id': String(ids[0]), 'original-name': encodeURIComponent('Bank Slip.PDF'), sha256: sha256(pdf) });
    // Zendesk holds only redacted.txt placeholders, and the ticket ends tagged vault_archived.
    const left = sandbox.comments(2001).flatMap((c) => c.attachments);
    expect(left.map((a) => a.file_name)).toEqual(['redacted.txt', 'redacted.txt', 'redacted.txt', 'redacted.txt']);
    expect(sandbox.ticket(2001)!.tags).toContain('vault_archived');
    expect(sandbox.ticket(2001)!.tags).not.toContain('vault_processing');
    expect(sandbox.ticket(2001)!.tags).not.toContain('vault_archive');
  });

  test('150+ attachments over several comment pages are all archived and redacted', async () => {
    const sandbox = runtime.sandbox!;
    sandbox.createTicket({ id: 2002, status: 'open' });
    for (let c = 0; c < 160; c++) {
      sandbox.addComment(2002, { attachments: [{ fileName: `scan-${c}.txt`, contentType: 'text/plain', data: Buffer.from(`page ${c}\n`) }] });
    }
    const result = await runTicket(runtime, '2002');
    expect(result.status).toBe('SUCCEEDED');
    expect(result.summary.attachments).toHaveLength(160);
    expect(result.summary.attachments.every((a) => a.outcome === 'archived' && a.redacted)).toBe(true);
    expect(await keysUnder('tickets/2002/')).toHaveLength(160);
  });

  test('a closed ticket is archived and redacted; the run records that it could not tag and succeeds', async () => {
    const sandbox = runtime.sandbox!;
    sandbox.createTicket({ id: 2003, status: 'closed', tags: ['old'] });
    sandbox.addComment(2003, { attachments: [{ fileName: 'a.pdf', contentType: 'application/pdf', data: makePdf('closed') }] });
    const result = await runTicket(runtime, '2003');
    expect(result.status).toBe('SUCCEEDED');
    expect(result.summary.attachments[0]).toMatchObject({ outcome: 'archived', redacted: true });
    expect(sandbox.ticket(2003)!.tags).toEqual(expect.not.arrayContaining(['vault_processing', 'vault_archived']));
  });

  test('an unknown ticket ends FAILED with TicketNotFound and writes nothing', async () => {
    const sandbox = runtime.sandbox!;
    const before = sandbox.requests.length;
    const result = await runTicket(runtime, '999999');
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('TicketNotFound');
    expect(result.summary).toEqual({ ticketId: '999999', attachments: [] });
    expect(await keysUnder('tickets/999999/')).toEqual([]);
    expect(sandbox.requests.slice(before).filter((r) => r.method !== 'GET')).toEqual([]);
  });

  test('a re-run processes only what remains: new files archived, old ones neither copied nor redacted again', async () => {
    const sandbox = runtime.sandbox!;
    sandbox.createTicket({ id: 2004, status: 'open' });
    sandbox.addComment(2004, { attachments: [{ fileName: 'first.pdf', contentType: 'application/pdf', data: makePdf('first') }] });
    const first = await runTicket(runtime, '2004');
    expect(first.status).toBe('SUCCEEDED');
    const late = sandbox.addComment(2004, { attachments: [{ fileName: 'late.png', contentType: 'image/png', data: makePng(2, 2, [5, 5, 5]) }] });
    const redactionsBefore = sandbox.redactions.length;

    const second = await runTicket(runtime, '2004', 'rerun');

    expect(second.status).toBe('SUCCEEDED');
    expect(second.summary.attachments).toEqual([
      { attachmentId: String(late.attachments[0]!.id), commentId: String(late.id), outcome: 'archived', s3Key: `tickets/2004/${late.attachments[0]!.id}.png`, redacted: true },
    ]);
    expect(sandbox.redactions.length - redactionsBefore).toBe(1);
    expect(await keysUnder('tickets/2004/')).toHaveLength(2);
  });
});
