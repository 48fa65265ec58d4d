import type { IdempotencyConfig } from '@aws-lambda-powertools/idempotency';
import { makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { Context } from 'aws-lambda';
import { archiveWriterSettings } from '../shared/archive.js';
import { archiveIndexFromEnv } from '../shared/archive-index.js';
import type { Env } from '../shared/config.js';
import { idempotencyConfig, idempotencyPersistence } from '../shared/idempotency.js';
import { logger } from '../shared/logger.js';
import { countCopy } from '../shared/metrics.js';
import { createS3Client } from '../shared/s3.js';
import { step } from '../shared/step.js';
import type { CopyInput, CopyResult } from '../shared/types.js';
import { isWaitRequest, waitingForZendesk, type WaitRequest } from '../shared/waits.js';
import { zendeskFromEnv } from '../shared/zendesk/from-env.js';
import { asSeenBy, copyAttachment, recordedCopy, type StoredCopy } from './copy.js';
import { parseCopyEvent } from './event.js';

/**
 * The thin Lambda door of CopyAttachment (one Map item): validate, then copyAttachment() once per
 * [ticketId, attachmentId] within an hour (Powertools idempotency in DynamoDB), so a Step Functions retry after
 * a lost Lambda response replays the result instead of copying again.
 *
 * Environment: ARCHIVE_BUCKET, IDEMPOTENCY_TABLE (required); AWS_REGION, AWS_ENDPOINT_URL_S3, S3_FORCE_PATH_STYLE,
 * AWS_ENDPOINT_URL_DYNAMODB, ARCHIVE_INDEX_TABLE and ARCHIVE_RETENTION_DAYS (the archive index), COPY_PART_SIZE_MB, COPY_QUEUE_SIZE, MAX_ATTACHMENT_MB, SSE_KMS_KEY_ID (optional);
 * the Zendesk client's: ZENDESK_URL, ZENDESK_CONTENT_HOSTS, ZENDESK_SECRET_ARN or the local credential variables.
 */

export { copyAttachment } from './copy.js';
export { parseCopyEvent } from './event.js';

export const IDEMPOTENCY_KEY_PREFIX = 'copy-attachment';
export const IDEMPOTENCY_EXPIRES_AFTER_SECONDS = 3600;

interface CopyRunner {
  config: IdempotencyConfig;
  copyOnce: (input: CopyInput) => Promise<StoredCopy>;
}

/** Built once per container (or local process): clients, settings and the idempotent wrapper. */
function createRunner(env: Env): CopyRunner {
  const settings = archiveWriterSettings(env);
  const s3 = createS3Client(settings);
  const index = archiveIndexFromEnv(env);
  const config = idempotencyConfig({
    eventKeyJmesPath: '[ticketId, attachment.attachmentId]',
    expiresAfterSeconds: IDEMPOTENCY_EXPIRES_AFTER_SECONDS,
  });
  const copyOnce = makeIdempotent(
    async (input: CopyInput): Promise<StoredCopy> => {
      const result = await copyAttachment({ input, zendesk: await zendeskFromEnv(env), s3, settings, logger, ...(index ? { index } : {}) });
      return recordedCopy(result, input);
    },
    { persistenceStore: idempotencyPersistence(IDEMPOTENCY_KEY_PREFIX, { env }), config },
  );
  return { config, copyOnce };
}

let runner: CopyRunner | undefined;

/**
 * A copy result, or (when Zendesk asked for a wait longer than the step waits in-process) the item's own input with
 * `waitSeconds` and the updated `zendeskWaits`: the Map iteration waits that long and runs the copy again with it.
 */
export const handler = step<unknown, CopyResult | (Record<string, unknown> & WaitRequest)>('copy-attachment', async (event, context) => {
  const input = parseCopyEvent(event);
  logger.appendKeys({ attachmentId: input.attachment.attachmentId });
  const copier = (runner ??= createRunner(process.env));
  // Lets Powertools expire an in-progress record with this invocation's remaining time.
  if (context) copier.config.registerLambdaContext(context as Context);
  const waits = (event as { zendeskWaits?: unknown }).zendeskWaits;
  const result = await waitingForZendesk(waits, async () => asSeenBy(await copier.copyOnce(input), input));
  if (isWaitRequest(result)) return { ...(event as Record<string, unknown>), ...result };
  // A replayed result (a retry after a lost response) counts again: rare, and a metric, not the archive's record.
  countCopy(result.outcome, result.bytes ?? 0);
  return result;
});
