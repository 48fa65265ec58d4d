import type { Context } from 'aws-lambda';
import { VaultError } from './errors.js';
import { logger } from './logger.js';

export type StepContext = Pick<Context, 'functionName' | 'awsRequestId' | 'getRemainingTimeInMillis'> & Partial<Context>;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Wraps a step's handler: log keys for the ticket, and one structured line per failure with the error's
 * name (never its stack into the result). The error itself is rethrown unchanged: Step Functions reads its name.
 */
export function step<E, R>(name: string, run: (event: E, context?: StepContext) => Promise<R>) {
  return async (event: E, context?: StepContext): Promise<R> => {
    if (context) logger.addContext(context as Context);
    const ticketId = isRecord(event) ? event.ticketId : undefined;
    logger.appendKeys({ step: name, ...(typeof ticketId === 'string' ? { ticketId } : {}) });
    try {
      return await run(event, context);
    } catch (error) {
      const errorName = error instanceof Error ? error.name : 'Error';
      logger.error('step failed', { errorName, errorMessage: error instanceof Error ? error.message : String(error), retryable: error instanceof VaultError ? error.retryable : undefined });
      throw error;
    } finally {
      logger.removeKeys(['step', 'ticketId', 'attachmentId']);
    }
  };
}
