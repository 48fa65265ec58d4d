import { causeMessage } from '../shared/errors.js';
import { isUnsuccessful, ticketIdOfEvent, type ExecutionStatusEvent } from '../shared/execution-events.js';
import type { Summary } from '../shared/types.js';
import type { NotifyInput } from './notify.js';

export type { ExecutionStatusEvent } from '../shared/execution-events.js';
export { isExecutionStatusEvent } from '../shared/execution-events.js';

/** Runs that reached Notify themselves: reporting them again would be noise. */
export const ALREADY_NOTIFIED_ERRORS = new Set(['AttachmentsNotArchived']);
const CAUSE_LIMIT = 1000;

/** The notification for an interrupted run, or undefined when there is nothing to say (success, or already told). */
export function interruptedRunInput(event: ExecutionStatusEvent): NotifyInput | undefined {
  const { detail } = event;
  if (!isUnsuccessful(event)) return undefined;
  if (detail.error && ALREADY_NOTIFIED_ERRORS.has(detail.error)) return undefined;
  const ticketId = ticketIdOfEvent(event);
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
