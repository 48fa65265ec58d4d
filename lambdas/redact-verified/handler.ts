import { makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { Context } from 'aws-lambda';
import type { IdempotencyConfig } from '@aws-lambda-powertools/idempotency';
import { redactionSettings, type Env, type RedactionSettings } from '../shared/config.js';
import { archiveWriterSettings } from '../shared/archive.js';
import { archiveIndexFromEnv } from '../shared/archive-index.js';
import { InvalidInput } from '../shared/errors.js';
import { idempotencyConfig, idempotencyPersistence } from '../shared/idempotency.js';
import { recordRedactionLag } from '../shared/metrics.js';
import { createS3Client } from '../shared/s3.js';
import { isRecord, parseExecution, step } from '../shared/step.js';
import { parseCopyResults, parseRedactionRecords } from '../shared/copies.js';
import { parseRunFileRef, runFiles, type RunFileRef, type RunFiles } from '../shared/run-files.js';
import { parseTicketId } from '../shared/ids.js';
import type { RedactInput, RedactResult, RedactState } from '../shared/types.js';
import { zendeskFromEnv } from '../shared/zendesk/from-env.js';
import { checkCopyForRedaction } from './check.js';
import { redactCommentNow, redactionLags, redactVerified, type CommentRedaction, type RedactDeps } from './redact.js';

/**
 * The thin Lambda door of RedactVerified: validate, then redactVerified() with the clients of this container.
 *
 * One redaction per (ticket, comment, attachment set): a Lambda retry after a crash, or a second execution of the same
 * ticket running at the same time, finds the idempotency record and does not redact again. The record stores
 * redactCommentNow's result, `{ requested, ticketBudget? }`, with the budget's reset as an absolute time, so a replayed
 * result is read against the clock (spentBudgetWaitSeconds) and a window already over is ignored.
 */

interface RedactRunner {
  config: IdempotencyConfig;
  settings: RedactionSettings;
  files: RunFiles;
  deps: (ticketId: string) => Omit<RedactDeps, 'zendesk'>;
}

/** Built once per container (or local process), on the first event: clients, settings and the idempotent wrapper. */
function createRunner(env: Env): RedactRunner {
  const archive = archiveWriterSettings(env);
  const settings = redactionSettings(env);
  const s3 = createS3Client(archive);
  const index = archiveIndexFromEnv(env);
  const config = idempotencyConfig({ eventKeyJmesPath: '[ticketId, commentId, attachmentIds]', expiresAfterSeconds: settings.idempotencySeconds });
  const persistence = idempotencyPersistence('redact-verified', { env });
  const redactCommentOnce = makeIdempotent(async (request: CommentRedaction) => redactCommentNow(await zendeskFromEnv(env), request), {
    persistenceStore: persistence,
    config,
  });
  return {
    config,
    settings,
    files: runFiles(s3, archive.bucket, archive.sseKmsKeyId),
    deps: (ticketId) => ({
      check: (copy, live) =>
        checkCopyForRedaction(s3, { bucket: archive.bucket, keyPrefix: archive.keyPrefix, ...(archive.sseKmsKeyId ? { kmsKeyId: archive.sseKmsKeyId } : {}) }, { ticketId, copy, ...(live ? { live } : {}) }),
      redactComment: (request) => redactCommentOnce(request),
      forgetRedaction: (request) => persistence.deleteRecord(request as unknown as Parameters<typeof persistence.deleteRecord>[0]),
      maxPasses: settings.maxPasses,
      maxWaitSeconds: settings.maxWaitSeconds,
      ticketWindowSeconds: settings.ticketWindowSeconds,
      ...(index ? { index } : {}),
    }),
  };
}

let runner: RedactRunner | undefined;

/** The previous pass as the state carries it (RedactState), with its records read back from redaction.json. */
async function previousPass(redaction: unknown, files: RunFiles): Promise<RedactInput['redaction']> {
  if (!isRecord(redaction) || typeof redaction.passes !== 'number' || redaction.passes === 0) return undefined;
  const records = parseRedactionRecords(await files.read(parseRunFileRef(redaction.file, files.bucket, 'redaction.file')));
  return { passes: redaction.passes, records, ...(typeof redaction.maxPasses === 'number' ? { maxPasses: redaction.maxPasses } : {}) };
}

/** RedactState: the pass without its records, which go to redaction.json. */
function stateOf(result: RedactResult, file: RunFileRef): RedactState {
  const { records, ...rest } = result;
  const counts = { redacted: 0, notVerified: 0, notConfirmed: 0, rateLimited: 0, requested: 0 };
  for (const r of records) {
    if (r.redacted) counts.redacted += 1;
    else if (r.reason === 'not_verified') counts.notVerified += 1;
    else if (r.reason === 'redaction_not_confirmed') counts.notConfirmed += 1;
    else if (r.reason === 'rate_limited') counts.rateLimited += 1;
    else if (r.reason === 'requested') counts.requested += 1;
  }
  return { ...rest, counts, file };
}

/** `{ticketId, executionName, executionArn, copies: CopiesState, redaction: RedactState | the first pass's start}`. */
export const handler = step('RedactVerified', async (event: unknown, context): Promise<RedactState> => {
  if (!isRecord(event) || !isRecord(event.copies)) throw new InvalidInput('RedactVerified expects {ticketId, executionName, executionArn, copies, redaction}');
  const ticketId = parseTicketId(event.ticketId);
  const { executionName } = parseExecution(event);
  runner ??= createRunner(process.env);
  if (context) runner.config.registerLambdaContext(context as Context);
  const { files } = runner;
  const copies = parseCopyResults(await files.read(parseRunFileRef(event.copies.file, files.bucket, 'copies.file')));
  const redaction = await previousPass(event.redaction, files);
  const result = await redactVerified({ ticketId, copies, ...(redaction ? { redaction } : {}) }, { ...runner.deps(ticketId), zendesk: await zendeskFromEnv() });
  for (const seconds of redactionLags(copies, redaction?.records, result.records, Date.now())) recordRedactionLag(seconds);
  return stateOf(result, await files.write(executionName, 'redaction', result.records));
});
