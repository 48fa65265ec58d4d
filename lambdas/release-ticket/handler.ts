import { idempotencyTable, tagConfig } from '../shared/config.js';
import { dynamoTicketLocks, sfnIsRunning, type TicketLocks } from '../shared/ticket-lock.js';
import { InvalidInput } from '../shared/errors.js';
import { isExecutionStatusEvent } from '../shared/execution-events.js';
import { logger } from '../shared/logger.js';
import { step } from '../shared/step.js';
import { zendeskFromEnv } from '../shared/zendesk/from-env.js';
import { releaseTicket, type ReleaseResult } from './release.js';

/**
 * The thin Lambda door of release-ticket, an EventBridge target of "Step Functions Execution Status Change" for the
 * unsuccessful ends (not a state of the workflow). A Zendesk failure is thrown: EventBridge's asynchronous invoke
 * retries it. Environment: the Zendesk client's (ZENDESK_URL, ZENDESK_SECRET_ARN or the local variables), TAG_*.
 */
let locks: TicketLocks | undefined;

export const handler = step('ReleaseTicket', async (event: unknown): Promise<ReleaseResult> => {
  if (!isExecutionStatusEvent(event)) throw new InvalidInput('release-ticket expects a Step Functions Execution Status Change event');
  locks ??= dynamoTicketLocks(idempotencyTable(), sfnIsRunning());
  const result = await releaseTicket(event, { zendesk: await zendeskFromEnv(), tags: tagConfig(), locks });
  logger.info('ticket released after an unsuccessful end', { ...result });
  return result;
});
