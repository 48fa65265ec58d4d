/**
 * The EventBridge event Step Functions sends when an execution ends ("Step Functions Execution Status Change",
 * Standard workflows only, best effort). The stack routes FAILED, TIMED_OUT and ABORTED ones to the release-ticket
 * and notify Lambdas; the local runtime sends the same event to the same handlers when an execution ends.
 */
import { ticketIdOf } from './ids.js';

export interface ExecutionStatusEvent {
  'detail-type': 'Step Functions Execution Status Change';
  region?: string;
  detail: {
    executionArn: string;
    name?: string;
    status: string;
    /** The execution input as a JSON string: `{ticketId, source, ...}`. */
    input?: string | null;
    error?: string | null;
    cause?: string | null;
  };
}

/** The ends an operator must look at: each one leaves the ticket vault_failed and can be redriven within 14 days. */
export const UNSUCCESSFUL_STATUSES = ['FAILED', 'TIMED_OUT', 'ABORTED'] as const;

export function isExecutionStatusEvent(event: unknown): event is ExecutionStatusEvent {
  const e = event as Partial<ExecutionStatusEvent> | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    e['detail-type'] === 'Step Functions Execution Status Change' &&
    typeof e.detail?.executionArn === 'string' &&
    typeof e.detail?.status === 'string'
  );
}

export function isUnsuccessful(event: ExecutionStatusEvent): boolean {
  return (UNSUCCESSFUL_STATUSES as readonly string[]).includes(event.detail.status);
}

/** The ticket the execution worked on, from its input; undefined when the input names none. */
export function ticketIdOfEvent(event: ExecutionStatusEvent): string | undefined {
  try {
    return ticketIdOf((JSON.parse(event.detail.input ?? '{}') as { ticketId?: unknown }).ticketId);
  } catch {
    return undefined;
  }
}
