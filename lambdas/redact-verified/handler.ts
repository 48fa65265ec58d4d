import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { Context } from 'aws-lambda';
import { archiveSettings } from '../shared/config.js';
import { verifyArchivedObject } from '../shared/archive.js';
import { InvalidInput } from '../shared/errors.js';
import { idempotencyPersistence } from '../shared/idempotency.js';
import { createS3Client } from '../shared/s3.js';
import { isRecord, parseTicketId, step } from '../shared/step.js';
import type { CopyResult, RedactResult } from '../shared/types.js';
import { zendeskFromEnv } from '../shared/zendesk/from-env.js';
import { redactCommentNow, redactVerified, type CommentRedaction } from './redact.js';

const settings = archiveSettings();
const s3 = createS3Client(settings);

/**
 * One redaction per (ticket, comment, attachment set): a Lambda retry after a crash, or a second execution
 * of the same ticket running at the same time, finds the record and does not redact again. The record stores
 * redactCommentNow's result, `{ requested, ticketBudget? }`, with the budget's reset as an absolute time, so a
 * replayed result is read against the clock (spentBudgetWaitSeconds) and a window already over is ignored.
 */
const idempotencyConfig = new IdempotencyConfig({
  eventKeyJmesPath: '[ticketId, commentId, attachmentIds]',
  expiresAfterSeconds: Number(process.env.REDACTION_IDEMPOTENCY_SECONDS ?? 900),
});
const persistence = idempotencyPersistence('redact-verified');
const redactCommentOnce = makeIdempotent(
  async (request: CommentRedaction) => redactCommentNow(await zendeskFromEnv(), request),
  { persistenceStore: persistence, config: idempotencyConfig },
);

export const handler = step('RedactVerified', async (event: unknown, context) => {
  if (!isRecord(event) || !Array.isArray(event.copies)) throw new InvalidInput('RedactVerified expects {ticketId, copies, redaction}');
  const ticketId = parseTicketId(event.ticketId);
  if (context) idempotencyConfig.registerLambdaContext(context as Context);
  const zendesk = await zendeskFromEnv();
  return redactVerified(
    {
      ticketId,
      copies: event.copies as CopyResult[],
      ...(isRecord(event.redaction) ? { redaction: event.redaction as unknown as RedactResult } : {}),
    },
    {
      zendesk,
      verify: (copy) =>
        verifyArchivedObject(s3, {
          bucket: settings.bucket,
          key: copy.s3Key ?? '',
          expectedSize: copy.size,
          ...(copy.sha256 ? { expectedSha256: copy.sha256 } : {}),
        }),
      redactComment: (request) => redactCommentOnce(request),
      forgetRedaction: (request) => persistence.deleteRecord(request as unknown as Parameters<typeof persistence.deleteRecord>[0]),
      maxPasses: Number(process.env.REDACTION_MAX_PASSES ?? 12),
      maxWaitSeconds: Number(process.env.REDACTION_MAX_WAIT_SECONDS ?? 900),
    },
  );
});
