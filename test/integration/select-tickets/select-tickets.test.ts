/**
 * SelectTickets' handler over real HTTP: the sandbox Zendesk's Export Search (its own 100-per-minute limit lowered to
 * 12, so the step has to hand waits to the workflow) and fauxqs for its parts, manifest and marker. More than 1,000
 * tickets over several date windows, open to archived, with and without files, and some outside the range: the manifest
 * in backfill/<runId>/tickets.jsonl holds exactly the range's tickets with files, in created order, once each.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { startSandboxZendesk, type SandboxZendesk, type TicketStatus } from '../../../local/sandbox/zendesk.js';
import { keysUnder, startLocalS3, type LocalS3 } from '../archive/fauxqs.js';

const BUCKET = 'vault-select';
/** The sandbox clock stands still (30 s into a minute) unless a Wait moves it. */
let clock = Date.parse('2026-09-01T12:00:30Z');

let sandbox: SandboxZendesk;
let local: LocalS3;
let handler: (event: unknown, context?: unknown) => Promise<Record<string, unknown>>;
const saved = { ...process.env };
const context = { functionName: 'select-tickets', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 900_000 };

interface Seeded {
  id: string;
  createdAt: string;
  status: string;
}
const inWindow: Seeded[] = [];
const statuses: Array<TicketStatus | 'archived'> = ['new', 'open', 'pending', 'solved', 'closed', 'archived'];

function seed(createdAt: string, status: TicketStatus | 'archived', withFile: boolean): Seeded {
  const t = sandbox.createTicket({ createdAt, ...(status === 'archived' ? { archived: true } : { status }) });
  sandbox.addComment(t.id, withFile ? { attachments: [{ fileName: 'a.txt', contentType: 'text/plain', data: Buffer.from(`ticket ${t.id}\n`) }] } : { body: 'no file' });
  return { id: String(t.id), createdAt, status };
}

beforeAll(async () => {
  sandbox = await startSandboxZendesk({ auth: { email: 'vault@sandbox.example', apiToken: 'select-token' }, now: () => clock, exportSearchRateLimit: 12 });
  local = await startLocalS3(BUCKET);
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_S3: local.endpoint,
    S3_FORCE_PATH_STYLE: 'true',
    ARCHIVE_BUCKET: BUCKET,
    ZENDESK_URL: sandbox.url,
    ZENDESK_EMAIL: 'vault@sandbox.example',
    ZENDESK_API_TOKEN: 'select-token',
    ZENDESK_CONTENT_HOSTS: sandbox.contentOrigin,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  for (const key of ['ZENDESK_BUDGET_TABLE', 'ZENDESK_OAUTH_CLIENT_ID', 'ZENDESK_SECRET_ARN', 'SSE_KMS_KEY_ID']) delete process.env[key];
  // 1,260 tickets with files over January to March 2024, every 100 minutes, some sharing a second; 60 without files.
  const start = Date.parse('2024-01-01T00:00:00Z');
  for (let i = 0; i < 1260; i++) {
    const at = new Date(start + Math.floor(i / 3) * 3 * 100 * 60_000 + (i % 3 === 2 ? 0 : (i % 3) * 100 * 60_000)).toISOString().replace('.000Z', 'Z');
    inWindow.push(seed(at, statuses[i % statuses.length]!, true));
    if (i % 21 === 0) seed(at, statuses[i % statuses.length]!, false);
  }
  // Outside [since, until): just before, the until instant itself (exclusive), and later.
  for (const at of ['2023-12-31T23:59:59Z', '2024-04-01T00:00:00Z', '2024-04-01T00:00:01Z', '2025-01-01T00:00:00Z']) for (const s of statuses) seed(at, s, true);
  ({ handler } = (await import('../../../lambdas/select-tickets/handler.js')) as unknown as { handler: typeof handler });
});

afterAll(async () => {
  await sandbox?.close();
  await local?.stop();
  for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
  Object.assign(process.env, saved);
});

async function text(key: string): Promise<string> {
  const object = await local.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return (await object.Body?.transformToString('utf8')) ?? '';
}

/** The step as the state machine runs it: progress {} first, then each answer's progress; a wait moves the clock. */
async function selectAll(runId: string, event: Record<string, unknown>) {
  const answers: Array<Record<string, unknown>> = [];
  let progress: unknown = {};
  for (let call = 0; call < 100; call++) {
    const answer = await handler({ runId, query: null, traffic: 'backfill', ...event, progress }, context);
    answers.push(answer);
    expect(typeof answer.done).toBe('boolean');
    if (answer.done === true) return { answer, answers };
    if (typeof answer.waitSeconds === 'number') clock += answer.waitSeconds * 1000;
    progress = answer.progress;
  }
  throw new Error('the selection did not finish');
}

describe('SelectTickets against the sandbox Zendesk and fauxqs', () => {
  test('1,260 tickets over several windows: the manifest is exactly the range\'s tickets with files, closed and archived included', async () => {
    const before = sandbox.requestCounts()['search.export'];
    const { answer, answers } = await selectAll('it-1', { since: '2024-01-01', until: '2024-04-01' });

    const sorted = [...inWindow].sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt) || Number(a.id) - Number(b.id));
    const manifest = await text('backfill/it-1/tickets.jsonl');
    expect(manifest).toBe(sorted.map((t) => `{"ticketId":"${t.id}","createdAt":"${t.createdAt}"}\n`).join(''));
    expect(answer).toEqual({ done: true, manifest: { bucket: BUCKET, key: 'backfill/it-1/tickets.jsonl' }, tickets: 1260, windows: expect.any(Number) });
    expect(answer.windows as number).toBeGreaterThanOrEqual(3);
    for (const status of ['closed', 'archived', 'solved']) expect(manifest).toContain(`"${sorted.find((t) => t.status === status)!.id}"`);
    expect(sandbox.ticket(Number(sorted.find((t) => t.status === 'archived')!.id))!.archived).toBe(true);

    // Export Search's own limit was met: the step asked the workflow to wait (never slept a minute itself), then went on.
    const waits = answers.filter((a) => typeof a.waitSeconds === 'number');
    expect(waits.length).toBeGreaterThan(0);
    expect(sandbox.rateLimitRefusals().export).toBe(waits.length);
    for (const wait of waits) expect(wait).toEqual({ done: false, waitSeconds: expect.any(Number), progress: expect.objectContaining({ v: 1, phase: 'select' }) });
    expect(sandbox.requestCounts()['search.export'] - before).toBeLessThan(40); // 13 pages and the windows, no re-read

    // The marker names the selection; the parts are gone; the state never held a ticket.
    expect(JSON.parse(await text('backfill/it-1/selection.json'))).toEqual({ selection: expect.stringMatching(/^[0-9a-f]{16}$/), tickets: 1260, windows: answer.windows });
    expect(await keysUnder(local.s3, BUCKET, 'backfill/it-1/parts/')).toEqual([]);
    for (const a of answers) expect(JSON.stringify(a).length).toBeLessThan(2048);
  }, 120_000);

  test('selecting the run again from the start rewrites the same manifest under a new selection, no part left over', async () => {
    const first = await text('backfill/it-1/tickets.jsonl');
    const marker = JSON.parse(await text('backfill/it-1/selection.json')) as { selection: string };
    const again = await selectAll('it-1', { since: '2024-01-01', until: '2024-04-01' });
    expect(again.answer).toMatchObject({ done: true, tickets: 1260 });
    expect(await text('backfill/it-1/tickets.jsonl')).toBe(first);
    expect((JSON.parse(await text('backfill/it-1/selection.json')) as { selection: string }).selection).not.toBe(marker.selection);
    expect(await keysUnder(local.s3, BUCKET, 'backfill/it-1/parts/')).toEqual([]);
  }, 120_000);

  test('the operator\'s terms narrow it (status:closed: archived tickets are closed too); the refused query fails as ZendeskRequestFailed', async () => {
    const { answer } = await selectAll('it-2', { since: '2024-01-01', until: '2024-04-01', query: 'status:closed' });
    const closed = inWindow.filter((t) => t.status === 'closed' || t.status === 'archived');
    expect(answer).toMatchObject({ done: true, tickets: closed.length });
    expect((await text('backfill/it-2/tickets.jsonl')).split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { ticketId: string }).ticketId).sort()).toEqual(closed.map((t) => t.id).sort());
    await expect(handler({ runId: 'it-3', since: '2024-01-01', until: '2024-04-01', query: 'free text', progress: {}, traffic: 'backfill' }, context)).rejects.toMatchObject({ name: 'ZendeskRequestFailed' });
  }, 120_000);
});
