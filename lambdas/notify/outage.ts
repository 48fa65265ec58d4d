import { causeMessage } from '../shared/errors.js';
import { ticketIdOf } from '../shared/ids.js';
import type { Summary } from '../shared/types.js';
import type { NotifyInput } from './notify.js';

/**
 * The EventBridge event Step Functions sends when an execution ends ("Step Functions Execution Status Change").
 * The stack routes FAILED, TIMED_OUT and ABORTED ones to the notify Lambda too, so that an outage, which leaves
 * the execution failed at the state that failed (for Redrive) without reaching Notify, still reaches the team.
 */
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

/** Runs that reached Notify themselves: reporting them again would be noise. */
export const ALREADY_NOTIFIED_ERRORS = new Set(['AttachmentsNotArchived']);
const CAUSE_LIMIT = 1000;

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

/** The notification for an interrupted run, or undefined when there is nothing to say (success, or already told). */
export function interruptedRunInput(event: ExecutionStatusEvent): NotifyInput | undefined {
  const { detail } = event;
  if (!['FAILED', 'TIMED_OUT', 'ABORTED'].includes(detail.status)) return undefined;
  if (detail.error && ALREADY_NOTIFIED_ERRORS.has(detail.error)) return undefined;
  let ticketId: string | undefined;
  try {
    ticketId = ticketIdOf((JSON.parse(detail.input ?? '{}') as { ticketId?: unknown }).ticketId);
  } catch {
    // no usable input
  }
  if (!ticketId) return undefined;
  const summary: Summary = {
    ticketId,
    status: 'FAILED',
    tagged: false,
    attachments: [],
    counts: { archived: 0, already_archived: 0, skipped: 0, failed: 0, redacted: 0 },
  };
  return {
    summary,
    executionArn: detail.executionArn,
    ...(detail.name ? { executionName: detail.name } : {}),
    interruption: { error: detail.error || detail.status, cause: causeMessage(detail.cause).slice(0, CAUSE_LIMIT) },
  };
}
