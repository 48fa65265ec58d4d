/**
 * The workflow side of the bench: whole tickets through the unchanged ASL in the local engine, with the sandbox
 * Zendesk counting every request by route kind. Used by bench/run.ts and by test/bench/bench-shape.test.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalRuntime } from '../local/runtime/local.js';
import type { ExecutionRecord, HistoryEvent } from '../local/runtime/history.js';
import type { RouteKind, SandboxZendesk } from '../local/sandbox/zendesk.js';

/** A ticket's shape: `attachments` files spread round-robin over `comments` comments. */
export interface TicketShape {
  attachments: number;
  comments: number;
  /** Bytes per file (generated, streamed, never held). Default 16 KiB. */
  bytes?: number;
}

/** Zendesk's largest comment page, which the client asks for. */
export const COMMENT_PAGE_SIZE = 100;

/** Step Functions Standard: USD per state transition ($0.025 per 1,000). */
export const USD_PER_TRANSITION = 0.025 / 1000;

/** The request kinds a run may make; every other kind (oauth, users.me, tags.read, legacy_redaction...) should be 0. */
export type CountedKind = 'ticket.get' | 'comments.list' | 'attachment.get' | 'download' | 'content' | 'redaction' | 'ticket.update';
export const COUNTED_KINDS: readonly CountedKind[] = ['ticket.get', 'comments.list', 'attachment.get', 'download', 'content', 'redaction', 'ticket.update'];

/**
 * The fewest Zendesk requests the design allows for one successful run (every file archived and redacted, no
 * faults, the per-ticket update budget not exhausted). N files, C comments, P = ceil(C / 100) comment pages:
 * - ticket.get     2      MarkTicket and FinishTicket each read the ticket once: status and `updated_at`
 *                         for the safe_update tag write (the write's own read is that read).
 * - comments.list  3P     ListAttachments; RedactVerified's own listing before it redacts (the live files and their
 *                         content_urls, which its checks and comment_redactions need) and its confirm pass.
 * - attachment.get N      CopyAttachment reads flags and a fresh content_url (URLs and names stay out of the
 *                         state history; the redaction takes its URLs from its own comment listing).
 * - download       N      the credentialed GET of content_url (302);
 * - content        N      the credential-free GET of the content host (the bytes).
 * - redaction      Cv     one comment_redactions call per comment with verified files (Cv = C here).
 * - ticket.update  2      vault_processing on, then vault_archived / vault_failed.
 */
export function designMinimum(shape: TicketShape): Record<CountedKind, number> {
  const n = shape.attachments;
  const commentsWithFiles = Math.min(shape.comments, n);
  const pages = Math.max(1, Math.ceil(shape.comments / COMMENT_PAGE_SIZE));
  return {
    'ticket.get': 2,
    'comments.list': 3 * pages,
    'attachment.get': n,
    download: n,
    content: n,
    redaction: commentsWithFiles,
    'ticket.update': 2,
  };
}

/**
 * Each StateEntered event is one billed transition (Step Functions counts a transition every time a state
 * is entered: top-level states, the Map state itself, every state of every Map iteration, the Choice and Wait
 * of a deferred redaction pass); a retry of a Task is one more. The local engine does not emit a StateEntered
 * for a retry, so retries are counted from its retry events.
 */
export function stateTransitions(events: readonly HistoryEvent[]): { transitions: number; entered: number; retries: number } {
  const entered = events.filter((e) => e.type === 'StateEntered').length;
  const retries = events.filter((e) => e.type === 'StateRetried').length;
  return { transitions: entered + retries, entered, retries };
}

/** The transitions of a run with N files, every one archived, and no deferred redaction pass: 10 + N. */
export function minimumTransitions(attachments: number): number {
  // Begin, MarkTicket (+ its Outcome choice), ListAttachments (+ Outcome), CopyMode, CopyAttachments (Map), N x
  // (CopyAttachment, CopyAttachmentOutcome, CopyAttachmentDone), CollectCopies, PrepareRedaction, RedactVerified,
  // RedactionDone, FinishTicket (+ Outcome), Notify, AllFilesArchived, Done.
  return 16 + 3 * attachments;
}

let nextTicketId = 70_000;

/** Creates a ticket of this shape in the sandbox and returns its id. */
export function seedTicket(sandbox: SandboxZendesk, shape: TicketShape, createdAt?: Date): string {
  const ticketId = nextTicketId++;
  while (sandbox.ticket(ticketId)) nextTicketId++;
  sandbox.createTicket({ id: ticketId, status: 'open', tags: ['vault_archive'], ...(createdAt ? { createdAt } : {}) });
  const bytes = shape.bytes ?? 16 * 1024;
  const perComment: number[][] = Array.from({ length: shape.comments }, () => []);
  for (let i = 0; i < shape.attachments; i++) perComment[i % shape.comments]!.push(i);
  for (const files of perComment) {
    sandbox.addComment(ticketId, {
      body: files.length > 0 ? 'Files attached' : 'No files',
      attachments: files.map((i) => ({
        fileName: `file-${i}.pdf`,
        contentType: 'application/pdf',
        data: { size: bytes, seed: ticketId * 1000 + i, head: '%PDF-1.7\n' },
      })),
    });
  }
  return String(ticketId);
}

export interface CountedRun {
  ticketId: string;
  status: ExecutionRecord['status'];
  seconds: number;
  /** Requests the sandbox received during the run, by route kind (zeros left out). */
  counts: Partial<Record<RouteKind, number>>;
  minimum: Record<CountedKind, number>;
  /** Requests above the minimum, by kind (only kinds with an excess). */
  excess: Partial<Record<RouteKind, number>>;
  /** Requests Zendesk refused with 429 (the per-ticket update budget), by kind; included in `counts`. */
  refused: Partial<Record<RouteKind, number>>;
  transitions: number;
  entered: number;
  retries: number;
  minimumTransitions: number;
  /** What the local engine measured against Step Functions' limits (payload bytes, history events, Map Run children). */
  limits: ExecutionRecord['limits'];
  /** Redaction passes RedactVerified needed (more than 1 when Zendesk's per-ticket update budget ran out). */
  redactionPasses: number;
  archived: number;
  redacted: number;
}

function nonZero(counts: Record<RouteKind, number>): Partial<Record<RouteKind, number>> {
  return Object.fromEntries(Object.entries(counts).filter(([, value]) => value > 0)) as Partial<Record<RouteKind, number>>;
}

/**
 * Runs one ticket of this shape through the whole workflow and counts what Zendesk saw. The sandbox must be
 * the runtime's Zendesk, and nothing else may talk to it meanwhile.
 */
export async function countedRun(runtime: LocalRuntime, sandbox: SandboxZendesk, shape: TicketShape): Promise<CountedRun> {
  const ticketId = seedTicket(sandbox, shape);
  sandbox.resetCounts();
  const started = performance.now();
  const record = await runtime.engine.run({ ticketId, source: 'cli' } as never, `bench-${ticketId}-${Date.now()}`);
  const seconds = (performance.now() - started) / 1000;
  const counts = sandbox.requestCounts();
  const refused: Partial<Record<RouteKind, number>> = {};
  for (const request of sandbox.requests) if (request.status === 429) refused[request.kind] = (refused[request.kind] ?? 0) + 1;
  const minimum = designMinimum(shape);
  const excess: Partial<Record<RouteKind, number>> = {};
  for (const [kind, count] of Object.entries(counts) as Array<[RouteKind, number]>) {
    const allowed = (minimum as Record<string, number>)[kind] ?? 0;
    if (count > allowed) excess[kind] = count - allowed;
  }
  const output = record.output as { summary?: { attachments?: Array<{ outcome: string; redacted: boolean }> } } | undefined;
  const files = output?.summary?.attachments ?? [];
  return {
    ticketId,
    status: record.status,
    seconds,
    counts: nonZero(counts),
    minimum,
    excess,
    refused,
    ...stateTransitions(record.events),
    minimumTransitions: minimumTransitions(shape.attachments),
    limits: record.limits,
    redactionPasses: record.events.filter((e) => e.type === 'StateEntered' && e.state === 'RedactVerified').length,
    archived: files.filter((f) => f.outcome === 'archived').length,
    redacted: files.filter((f) => f.redacted).length,
  };
}

export interface BenchRuntime {
  runtime: LocalRuntime;
  sandbox: SandboxZendesk;
  /** Where the runtime keeps its executions (a backfill engine beside it keeps its own there too). */
  historyDir: string;
  close(): Promise<void>;
}

/**
 * The local runtime against a sandbox of our own: embedded fauxqs (in memory) and dynalite, Retry intervals 0,
 * and Wait states shortened to `waitMs` while the sandbox clock jumps by the Wait's seconds, so that a run
 * deferred by Zendesk's per-ticket update budget (30 per 10 minutes) resumes in a fresh window, as it would
 * after the real wait. Sets process.env (the handlers read it).
 */
export async function openBenchRuntime(options: { waitMs?: number; realWaits?: boolean; env?: Record<string, string> } = {}): Promise<BenchRuntime> {
  const { startSandboxZendesk } = await import('../local/sandbox/zendesk.js');
  const { openLocal } = await import('../local/runtime/local.js');
  const credentials = { email: 'bench@sandbox.example', apiToken: 'bench-workflow-token' };
  const sandbox = await startSandboxZendesk({ auth: credentials });
  const dataDir = await mkdtemp(join(tmpdir(), 'vault-bench-'));
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env, ATTACHMENT_VAULT_DATA_DIR: dataDir };
  for (const key of ['AWS_ENDPOINT_URL_S3', 'ARCHIVE_BUCKET', 'IDEMPOTENCY_TABLE', 'NOTIFY_WEBHOOK_URL', 'ZENDESK_OAUTH_CLIENT_ID', 'ZENDESK_OAUTH_CLIENT_SECRET']) delete env[key];
  Object.assign(env, {
    ZENDESK_URL: sandbox.url,
    ZENDESK_EMAIL: credentials.email,
    ZENDESK_API_TOKEN: credentials.apiToken,
    ZENDESK_CONTENT_HOSTS: sandbox.contentOrigin,
  });
  let runtime: LocalRuntime;
  try {
    runtime = await openLocal({
      env,
      retryIntervalMs: 0,
      ...(options.realWaits ? {} : { waitMs: options.waitMs ?? 20 }),
      persistS3: false,
      seedDemo: false,
      onEvent: (event) => {
        if (event.type !== 'StateEntered' || event.state !== 'WaitForZendeskBudget') return;
        const seconds = Number((event.input as { redaction?: { retryAfterSeconds?: unknown } } | undefined)?.redaction?.retryAfterSeconds ?? 0);
        if (seconds > 0) sandbox.advanceClock(seconds);
      },
    });
  } catch (error) {
    await sandbox.close();
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    runtime,
    sandbox,
    historyDir: join(dataDir, 'executions'),
    async close() {
      await runtime.close();
      await sandbox.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
