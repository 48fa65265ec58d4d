import { makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { Context } from 'aws-lambda';
import type { IdempotencyConfig } from '@aws-lambda-powertools/idempotency';
import { redactionSettings, type Env, type RedactionSettings } from '../shared/config.js';
import { archiveWriterSettings } from '../shared/archive.js';
import { archiveIndexFromEnv } from '../shared/archive-index.js';
import { InvalidInput } from '../shared/errors.js';
import { idempotencyConfig, idempotencyPersistence } from '../shared/idempotency.js';
import { createS3Client } from '../shared/s3.js';
import { isRecord, step } from '../shared/step.js';
import { parseTicketId } from '../shared/ids.js';
import type { CopyResult, RedactResult } from '../shared/types.js';
import { zendeskFromEnv } from '../shared/zendesk/from-env.js';
import { checkCopyForRedaction } from './check.js';
import { redactCommentNow, redactVerified, type CommentRedaction, type RedactDeps } from './redact.js';

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
    deps: (ticketId) => ({
      check: (copy, live) =>
        checkCopyForRedaction(s3, { bucket: archive.bucket, keyPrefix: archive.keyPrefix, ...(archive.sseKmsKeyId ? { kmsKeyId: archive.sseKmsKeyId } : {}) }, { ticketId, copy, ...(live ? { live } : {}) }),
      redactComment: (request) => redactCommentOnce(request),
      forgetRedaction: (request) => persistence.deleteRecord(request as unknown as Parameters<typeof persistence.deleteRecord>[0]),
      maxPasses: settings.maxPasses,
      maxWaitSeconds: settings.maxWaitSeconds,
      ...(index ? { index } : {}),
    }),
  };
}

let runner: RedactRunner | undefined;

/** Forgets the per-container clients (the local runtime calls this when it changes the environment). */
export function resetRedactHandler(): void {
  runner = undefined;
}

export const handler = step('RedactVerified', async (event: unknown, context): Promise<RedactResult> => {
  if (!isRecord(event) || !Array.isArray(event.copies)) throw new InvalidInput('RedactVerified expects {ticketId, copies, redaction}');
  const ticketId = parseTicketId(event.ticketId);
  runner ??= createRunner(process.env);
  if (context) runner.config.registerLambdaContext(context as Context);
  return redactVerified(
    {
      ticketId,
      copies: event.copies as CopyResult[],
      ...(isRecord(event.redaction) ? { redaction: event.redaction as unknown as RedactResult } : {}),
    },
    { ...runner.deps(ticketId), zendesk: await zendeskFromEnv() },
  );
});
