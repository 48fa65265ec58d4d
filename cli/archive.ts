import { closeSync } from 'node:fs';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { AUDIT_ACTIONS } from '../lambdas/shared/archive-audit.js';
import { ticketIdOf } from '../lambdas/shared/ids.js';
import { listFiles, openArchivedFile, parseReason, type FileSelector } from '../lambdas/viewer/open.js';
import { eraseArchived, type EraseSelector } from './archive-erase.js';
import { reindexArchive } from './archive-reindex.js';
import { parseSince } from './executions.js';
import { printJson, UsageError } from './output.js';

export { ARCHIVE_USAGE } from './archive-usage.js';

/**
 * `attachment-vault archive list|open|erase|audit|reindex`: the archive's reading side, against the deployed stack
 * (archive-aws.ts) or, with --local, the archive under ATTACHMENT_VAULT_DATA_DIR (local/runtime/archive.ts). Each
 * prints one JSON document. A local `open` keeps the embedded S3 serving the link until it expires (stdout is closed
 * once the document is written, so `| jq` ends at once); stop it earlier with Ctrl-C.
 */

const OPTIONS = {
  local: { type: 'boolean', default: false },
  ticket: { type: 'string' },
  requester: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  reason: { type: 'string' },
  actor: { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

/** The person the audit trail names for a local command: ATTACHMENT_VAULT_ACTOR, else the OS user. */
export function localActor(env: NodeJS.ProcessEnv = process.env): string {
  const named = env.ATTACHMENT_VAULT_ACTOR?.trim();
  if (named) return named;
  try {
    return userInfo().username || 'unknown';
  } catch {
    return 'unknown';
  }
}

function idOption(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  const id = ticketIdOf(value);
  if (!id) throw new UsageError(`${flag} must be a Zendesk ID (digits, no leading zero)`);
  return id;
}

/** `--until 2026-01-31` means the whole day. */
export function parseUntil(value: string | undefined, now: Date = new Date()): Date {
  if (value === undefined) return now;
  const date = parseSince(value, now);
  if (!date) throw new UsageError('--until must be a date');
  return /^\d{4}-\d{2}-\d{2}$/.test(value.trim()) ? new Date(date.getTime() + 86_400_000 - 1) : date;
}

export function fileSelector(values: Values): FileSelector {
  const ticketId = idOption(values.ticket, '--ticket');
  const requesterId = idOption(values.requester, '--requester');
  const chosen = [ticketId, requesterId, values.since].filter((v) => v !== undefined).length;
  if (chosen !== 1) throw new UsageError('archive list needs exactly one of --ticket <id>, --requester <id> or --since <date> [--until <date>]');
  if (values.until !== undefined && values.since === undefined) throw new UsageError('--until goes with --since');
  if (ticketId) return { ticketId };
  if (requesterId) return { requesterId };
  const since = parseSince(values.since)!;
  const until = parseUntil(values.until);
  if (until < since) throw new UsageError('--until is before --since');
  return { since, until };
}

function eraseSelector(values: Values): EraseSelector {
  const ticketId = idOption(values.ticket, '--ticket');
  const requesterId = idOption(values.requester, '--requester');
  if ((ticketId === undefined) === (requesterId === undefined)) throw new UsageError('archive erase needs exactly one of --ticket <id> or --requester <id>');
  return ticketId ? { ticketId } : { requesterId: requesterId! };
}

function reasonOf(values: Values, command: string): string {
  if (values.reason === undefined) throw new UsageError(`archive ${command} needs --reason "<why>": it goes into the audit trail`);
  try {
    return parseReason(values.reason);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** What each command needs, locally or in AWS. */
interface Session {
  actor: string;
  bucket: string;
  s3: import('@aws-sdk/client-s3').S3Client;
  index: import('../lambdas/shared/archive-index.js').ArchiveIndex;
  audit: import('../lambdas/shared/archive-audit.js').AuditTrail;
  sign: import('../lambdas/viewer/open.js').SignLink;
  versioned: boolean;
  local: boolean;
  close(): Promise<void>;
}

async function openSession(local: boolean, role: 'signer' | 'eraser' | 'reader'): Promise<Session> {
  if (local) {
    const { openLocalArchive } = await import('../local/runtime/archive.js');
    const archive = await openLocalArchive();
    return { ...archive, actor: localActor(), versioned: false, local: true };
  }
  const { openAwsArchive } = await import('./archive-aws.js');
  const session = await openAwsArchive(role);
  return { ...session, versioned: true, local: false, close: async () => session.close() };
}

/** A local link is served by this process: keep it up until the link expires or the user stops it. */
async function serveUntil(expiresAt: string): Promise<void> {
  closeSync(1);
  process.stderr.write(`attachment-vault: serving the link until ${expiresAt} (Ctrl-C to stop)\n`);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, Math.max(0, Date.parse(expiresAt) - Date.now()));
    const stop = () => {
      clearTimeout(timer);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

async function run(sub: string, values: Values, positionals: string[]): Promise<number> {
  switch (sub) {
    case 'list': {
      const selector = fileSelector(values);
      const session = await openSession(values.local, 'signer');
      try {
        printJson({ files: await listFiles(session.index, selector) });
      } finally {
        await session.close();
      }
      return 0;
    }
    case 'open':
      return openCommand(values, positionals);
    case 'erase': {
      const selector = eraseSelector(values);
      const reason = reasonOf(values, 'erase');
      const session = await openSession(values.local, 'eraser');
      try {
        printJson(await eraseArchived({ ...session }, selector, reason, values['dry-run']));
      } finally {
        await session.close();
      }
      return 0;
    }
    case 'audit':
      return auditCommand(values);
    case 'reindex': {
      const session = await openSession(values.local, 'reader');
      try {
        printJson(await reindexArchive(session));
      } finally {
        await session.close();
      }
      return 0;
    }
    default:
      throw new UsageError(sub ? `Unknown command "archive ${sub}"` : 'archive needs a command: list, open, erase, audit or reindex');
  }
}

async function openCommand(values: Values, positionals: string[]): Promise<number> {
  if (positionals.length !== 1) throw new UsageError('archive open needs one attachment ID');
  const attachmentId = idOption(positionals[0], 'the attachment ID')!;
  const reason = reasonOf(values, 'open');
  const session = await openSession(values.local, 'signer');
  try {
    const link = await openArchivedFile(session, { attachmentId, reason, actor: session.actor, action: 'open' });
    printJson(link);
    if (session.local) await serveUntil(link.expiresAt);
  } finally {
    await session.close();
  }
  return 0;
}

async function auditCommand(values: Values): Promise<number> {
  const ticketId = idOption(values.ticket, '--ticket');
  const since = parseSince(values.since);
  const actor = values.actor?.trim();
  const session = await openSession(values.local, 'signer');
  try {
    const entries = await session.audit.query({ ...(ticketId ? { ticketId } : {}), ...(actor ? { actor } : {}), ...(since ? { since } : {}) });
    printJson({ entries: entries.filter((e) => AUDIT_ACTIONS.includes(e.action)) });
  } finally {
    await session.close();
  }
  return 0;
}

export async function archive(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({ args: rest, options: OPTIONS, allowPositionals: true, strict: true });
  if (sub !== 'open' && positionals.length > 0) throw new UsageError(`archive ${sub ?? ''} takes no arguments`.replace(/ +takes/, ' takes'));
  return run(sub ?? '', values, positionals);
}
