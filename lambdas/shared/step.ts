import type { Context } from 'aws-lambda';
import { InvalidInput, VaultError } from './errors.js';
import { logger } from './logger.js';
import { publishMetrics } from './metrics.js';
import { trafficOf, withTraffic } from './traffic.js';

export type StepContext = Pick<Context, 'functionName' | 'awsRequestId' | 'getRemainingTimeInMillis'> & Partial<Context>;

const EXECUTION_NAME = /^[0-9A-Za-z_-]{1,80}$/;
const EXECUTION_ARN = /^arn:[\w-]+:states:[\w-]*:\d*:execution:[^:\s]+:[0-9A-Za-z_-]{1,80}$/;

/** `{executionName, executionArn}` as the ASL passes them from `$$.Execution` (Name and Id). */
export function parseExecution(event: Record<string, unknown>): { executionName: string; executionArn: string } {
  const { executionName, executionArn } = event;
  if (typeof executionName !== 'string' || !EXECUTION_NAME.test(executionName)) throw new InvalidInput('executionName must be a Step Functions execution name');
  if (typeof executionArn !== 'string' || !EXECUTION_ARN.test(executionArn) || !executionArn.endsWith(`:${executionName}`)) {
    throw new InvalidInput('executionArn must be the execution ARN of executionName');
  }
  return { executionName, executionArn };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Wraps a step's handler: log keys for the ticket, the traffic its Zendesk requests are budgeted as (traffic.ts: the
 * execution's name), and one structured line per failure with the error's name (never its stack into the result). The error itself is rethrown unchanged: Step Functions reads its name.
 * What the invocation recorded in metrics.ts is published once at its end, failed or not (the EMF lines: counts and
 * seconds only).
 */
export function step<E, R>(name: string, run: (event: E, context?: StepContext) => Promise<R>) {
  return async (event: E, context?: StepContext): Promise<R> => {
    if (context) logger.addContext(context as Context);
    const ticketId = isRecord(event) ? event.ticketId : undefined;
    logger.appendKeys({ step: name, ...(typeof ticketId === 'string' ? { ticketId } : {}) });
    const traffic = trafficOf(isRecord(event) ? event : {});
    try {
      return await withTraffic(traffic, () => run(event, context));
    } catch (error) {
      const errorName = error instanceof Error ? error.name : 'Error';
      logger.error('step failed', { errorName, errorMessage: error instanceof Error ? error.message : String(error), retryable: error instanceof VaultError ? error.retryable : undefined });
      throw error;
    } finally {
      publishMetrics(traffic);
      logger.removeKeys(['step', 'ticketId', 'attachmentId']);
    }
  };
}
