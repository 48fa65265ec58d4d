import type { HistoryEvent as SfnEvent } from '@aws-sdk/client-sfn';
import type { HistoryEvent } from '../local/runtime/history.js';

/**
 * Maps a Step Functions execution history (GetExecutionHistory, includeExecutionData) onto the local engine's
 * events, so describePath and summaryOf read AWS and local executions alike:
 *
 * | AWS                                                        | local                                       |
 * |------------------------------------------------------------|---------------------------------------------|
 * | `*StateEntered` / `*StateExited`                           | StateEntered / StateExited (+ input/output) |
 * | LambdaFunction/Task/Activity `Failed`, `TimedOut`, ...     | StateFailed (error, cause)                  |
 * | next `*Scheduled` of the same state after a failure        | StateRetried (attempt = retries so far)     |
 * | next state entered (or the state exited) after a failure   | StateCaught                                 |
 * | MapIterationStarted/Succeeded/Failed/Aborted               | same, with `index`                          |
 * | MapStateFailed                                             | StateFailed of the Map (the iteration error)|
 * | ExecutionStarted/Succeeded/Failed/Aborted/TimedOut/Redriven| same (Redriven: `attempt` = redrive count)  |
 *
 * AWS events inside an inline Map iteration do not carry the index: it is inherited along `previousEventId` from
 * the iteration's MapIterationStarted, and an event that follows an iteration's end is back at the Map's level.
 */

const ITERATION_END = new Set(['MapIterationSucceeded', 'MapIterationFailed', 'MapIterationAborted']);

type Failure = { error?: string; cause?: string };

function failureOf(event: SfnEvent): Failure | undefined {
  const details =
    event.lambdaFunctionFailedEventDetails ??
    event.lambdaFunctionTimedOutEventDetails ??
    event.lambdaFunctionScheduleFailedEventDetails ??
    event.lambdaFunctionStartFailedEventDetails ??
    event.taskFailedEventDetails ??
    event.taskTimedOutEventDetails ??
    event.taskStartFailedEventDetails ??
    event.taskSubmitFailedEventDetails ??
    event.activityFailedEventDetails ??
    event.activityTimedOutEventDetails ??
    event.activityScheduleFailedEventDetails;
  if (!details) return undefined;
  const error = details.error ?? (/TimedOut$/.test(event.type ?? '') ? 'States.Timeout' : undefined);
  return { ...(error ? { error } : {}), ...(details.cause ? { cause: details.cause } : {}) };
}

const SCHEDULED = new Set(['LambdaFunctionScheduled', 'TaskScheduled', 'ActivityScheduled']);

/** Execution data is a JSON string, possibly truncated (then it is left out). */
function parsed(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

interface Lane {
  state?: string;
  retries: number;
  pending?: { state: string; error?: string };
  /** The last failure of this lane that was neither retried nor caught. */
  finalError?: Failure;
}

export function historyEventsFromAws(events: readonly SfnEvent[]): HistoryEvent[] {
  const out: HistoryEvent[] = [];
  const byId = new Map<number, SfnEvent>();
  const indexOf = new Map<number, number | undefined>();
  const lanes = new Map<number | undefined, Lane>();
  let lastIterationError: Failure | undefined;

  const laneOf = (index: number | undefined): Lane => {
    let lane = lanes.get(index);
    if (!lane) lanes.set(index, (lane = { retries: 0 }));
    return lane;
  };

  for (const event of events) {
    const type = event.type ?? '';
    const id = event.id ?? 0;
    byId.set(id, event);
    const iteration =
      event.mapIterationStartedEventDetails ??
      event.mapIterationSucceededEventDetails ??
      event.mapIterationFailedEventDetails ??
      event.mapIterationAbortedEventDetails;
    let index: number | undefined;
    if (iteration) index = iteration.index;
    else {
      const previous = event.previousEventId !== undefined ? byId.get(event.previousEventId) : undefined;
      index = previous && !ITERATION_END.has(previous.type ?? '') ? indexOf.get(previous.id ?? 0) : undefined;
    }
    indexOf.set(id, index);
    const lane = laneOf(index);
    const timestamp = (event.timestamp instanceof Date ? event.timestamp : new Date(event.timestamp ?? 0)).toISOString();
    const base = (entry: Omit<HistoryEvent, 'timestamp'>): HistoryEvent => ({ timestamp, ...entry, ...(index !== undefined ? { index } : {}) });
    const caught = () => {
      if (!lane.pending) return;
      out.push(base({ type: 'StateCaught', state: lane.pending.state, ...(lane.pending.error ? { error: lane.pending.error } : {}) }));
      lane.pending = undefined;
    };
    const settle = () => {
      // Anything else after a failure in this lane: nothing retried or caught it.
      if (lane.pending) lane.finalError = { ...(lane.pending.error ? { error: lane.pending.error } : {}) };
      lane.pending = undefined;
    };

    const failure = failureOf(event);
    if (failure) {
      settle();
      const state = lane.state ?? '';
      out.push(base({ type: 'StateFailed', state, ...failure }));
      lane.pending = { state, ...(failure.error ? { error: failure.error } : {}) };
      lane.finalError = failure;
      continue;
    }
    if (SCHEDULED.has(type)) {
      if (lane.pending) {
        lane.retries += 1;
        out.push(base({ type: 'StateRetried', state: lane.pending.state, attempt: lane.retries, ...(lane.pending.error ? { error: lane.pending.error } : {}) }));
        lane.pending = undefined;
        lane.finalError = undefined;
      }
      continue;
    }
    if (type.endsWith('StateEntered') && event.stateEnteredEventDetails) {
      caught();
      lane.state = event.stateEnteredEventDetails.name;
      lane.retries = 0;
      lane.finalError = undefined;
      const input = parsed(event.stateEnteredEventDetails.input);
      out.push(base({ type: 'StateEntered', state: lane.state ?? '', ...(input !== undefined ? { input } : {}) }));
      continue;
    }
    if (type.endsWith('StateExited') && event.stateExitedEventDetails) {
      caught();
      const output = parsed(event.stateExitedEventDetails.output);
      out.push(base({ type: 'StateExited', state: event.stateExitedEventDetails.name ?? '', ...(output !== undefined ? { output } : {}) }));
      continue;
    }
    if (iteration) {
      if (type === 'MapIterationStarted') {
        lanes.set(index, { retries: 0 });
      } else if (type === 'MapIterationFailed') {
        settle();
        lastIterationError = lane.finalError ?? lastIterationError;
      }
      const error = type === 'MapIterationFailed' ? lane.finalError?.error : undefined;
      out.push(base({ type, state: iteration.name ?? '', ...(error ? { error } : {}) }));
      continue;
    }
    switch (type) {
      case 'MapStateFailed':
      case 'MapStateAborted': {
        settle();
        const state = lane.state ?? '';
        out.push(base({ type: 'StateFailed', state, error: lastIterationError?.error ?? (type === 'MapStateAborted' ? 'States.Aborted' : 'States.MapFailed') }));
        break;
      }
      case 'ExecutionStarted': {
        const input = parsed(event.executionStartedEventDetails?.input);
        out.push(base({ type, ...(input !== undefined ? { input } : {}) }));
        break;
      }
      case 'ExecutionSucceeded': {
        const output = parsed(event.executionSucceededEventDetails?.output);
        out.push(base({ type, ...(output !== undefined ? { output } : {}) }));
        break;
      }
      case 'ExecutionFailed':
      case 'ExecutionAborted':
      case 'ExecutionTimedOut': {
        settle();
        const details = event.executionFailedEventDetails ?? event.executionAbortedEventDetails ?? event.executionTimedOutEventDetails;
        out.push(base({ type, ...(details?.error ? { error: details.error } : {}), ...(details?.cause ? { cause: details.cause } : {}) }));
        break;
      }
      case 'ExecutionRedriven': {
        // The redriven states start over: failures before this point are history.
        for (const l of lanes.values()) l.pending = undefined;
        lastIterationError = undefined;
        out.push(base({ type, ...(event.executionRedrivenEventDetails?.redriveCount ? { attempt: event.executionRedrivenEventDetails.redriveCount } : {}) }));
        break;
      }
      default:
        break;
    }
  }
  return out;
}
