import type {
  MapIterationEventDetails,
  HistoryEvent as SfnEvent,
  StateEnteredEventDetails,
  StateExitedEventDetails,
} from '@aws-sdk/client-sfn';
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

/** The mapping's running state: the output, the events seen, and one lane per level (the Map's, each iteration's). */
class Mapping {
  readonly out: HistoryEvent[] = [];
  readonly lanes = new Map<number | undefined, Lane>();
  lastIterationError: Failure | undefined;
  readonly #byId = new Map<number, SfnEvent>();
  readonly #indexOf = new Map<number, number | undefined>();

  laneOf(index: number | undefined): Lane {
    let lane = this.lanes.get(index);
    if (!lane) this.lanes.set(index, (lane = { retries: 0 }));
    return lane;
  }

  /** Records the event and finds its iteration: its own index, else the one inherited along previousEventId. */
  indexOf(event: SfnEvent, iteration: MapIterationEventDetails | undefined): number | undefined {
    const id = event.id ?? 0;
    this.#byId.set(id, event);
    let index: number | undefined;
    if (iteration) index = iteration.index;
    else {
      const previous = event.previousEventId !== undefined ? this.#byId.get(event.previousEventId) : undefined;
      index = previous && !ITERATION_END.has(previous.type ?? '') ? this.#indexOf.get(previous.id ?? 0) : undefined;
    }
    this.#indexOf.set(id, index);
    return index;
  }
}

/** One AWS event being mapped: its type, its iteration and lane, and how to emit a local event stamped like it. */
interface Step {
  readonly event: SfnEvent;
  readonly type: string;
  readonly index: number | undefined;
  readonly lane: Lane;
  readonly iteration: MapIterationEventDetails | undefined;
  push(entry: Omit<HistoryEvent, 'timestamp'>): void;
}

function stepOf(mapping: Mapping, event: SfnEvent): Step {
  const iteration =
    event.mapIterationStartedEventDetails ??
    event.mapIterationSucceededEventDetails ??
    event.mapIterationFailedEventDetails ??
    event.mapIterationAbortedEventDetails;
  const index = mapping.indexOf(event, iteration);
  const lane = mapping.laneOf(index);
  const timestamp = (event.timestamp instanceof Date ? event.timestamp : new Date(event.timestamp ?? 0)).toISOString();
  const push = (entry: Omit<HistoryEvent, 'timestamp'>): void => {
    mapping.out.push({ timestamp, ...entry, ...(index !== undefined ? { index } : {}) });
  };
  return { event, type: event.type ?? '', index, lane, iteration, push };
}

/** A failure pending in the lane was caught: the lane moved on to another state (or exited the failed one). */
function caught(step: Step): void {
  const { lane } = step;
  if (!lane.pending) return;
  step.push({ type: 'StateCaught', state: lane.pending.state, ...(lane.pending.error ? { error: lane.pending.error } : {}) });
  lane.pending = undefined;
}

function settle(lane: Lane): void {
  // Anything else after a failure in this lane: nothing retried or caught it.
  if (lane.pending) lane.finalError = { ...(lane.pending.error ? { error: lane.pending.error } : {}) };
  lane.pending = undefined;
}

function onFailure(step: Step, failure: Failure): void {
  const { lane } = step;
  settle(lane);
  const state = lane.state ?? '';
  step.push({ type: 'StateFailed', state, ...failure });
  lane.pending = { state, ...(failure.error ? { error: failure.error } : {}) };
  lane.finalError = failure;
}

/** A task scheduled again after a failure in its lane is a retry. */
function onScheduled(step: Step): void {
  const { lane } = step;
  if (!lane.pending) return;
  lane.retries += 1;
  step.push({ type: 'StateRetried', state: lane.pending.state, attempt: lane.retries, ...(lane.pending.error ? { error: lane.pending.error } : {}) });
  lane.pending = undefined;
  lane.finalError = undefined;
}

function onStateEntered(step: Step, details: StateEnteredEventDetails): void {
  const { lane } = step;
  caught(step);
  lane.state = details.name;
  lane.retries = 0;
  lane.finalError = undefined;
  const input = parsed(details.input);
  step.push({ type: 'StateEntered', state: lane.state ?? '', ...(input !== undefined ? { input } : {}) });
}

function onStateExited(step: Step, details: StateExitedEventDetails): void {
  caught(step);
  const output = parsed(details.output);
  step.push({ type: 'StateExited', state: details.name ?? '', ...(output !== undefined ? { output } : {}) });
}

function onIteration(mapping: Mapping, step: Step, iteration: MapIterationEventDetails): void {
  const { type, index, lane } = step;
  if (type === 'MapIterationStarted') {
    mapping.lanes.set(index, { retries: 0 });
  } else if (type === 'MapIterationFailed') {
    settle(lane);
    mapping.lastIterationError = lane.finalError ?? mapping.lastIterationError;
  }
  const error = type === 'MapIterationFailed' ? lane.finalError?.error : undefined;
  step.push({ type, state: iteration.name ?? '', ...(error ? { error } : {}) });
}

/** The Map state's and the execution's own events; any other type maps to nothing. */
function onOther(mapping: Mapping, step: Step): void {
  const { event, type, lane } = step;
  switch (type) {
    case 'MapStateFailed':
    case 'MapStateAborted': {
      settle(lane);
      const state = lane.state ?? '';
      step.push({ type: 'StateFailed', state, error: mapping.lastIterationError?.error ?? (type === 'MapStateAborted' ? 'States.Aborted' : 'States.MapFailed') });
      break;
    }
    case 'ExecutionStarted': {
      const input = parsed(event.executionStartedEventDetails?.input);
      step.push({ type, ...(input !== undefined ? { input } : {}) });
      break;
    }
    case 'ExecutionSucceeded': {
      const output = parsed(event.executionSucceededEventDetails?.output);
      step.push({ type, ...(output !== undefined ? { output } : {}) });
      break;
    }
    case 'ExecutionFailed':
    case 'ExecutionAborted':
    case 'ExecutionTimedOut': {
      settle(lane);
      const details = event.executionFailedEventDetails ?? event.executionAbortedEventDetails ?? event.executionTimedOutEventDetails;
      step.push({ type, ...(details?.error ? { error: details.error } : {}), ...(details?.cause ? { cause: details.cause } : {}) });
      break;
    }
    case 'ExecutionRedriven': {
      // The redriven states start over: failures before this point are history.
      for (const l of mapping.lanes.values()) l.pending = undefined;
      mapping.lastIterationError = undefined;
      step.push({ type, ...(event.executionRedrivenEventDetails?.redriveCount ? { attempt: event.executionRedrivenEventDetails.redriveCount } : {}) });
      break;
    }
    default:
      break;
  }
}

function mapEvent(mapping: Mapping, event: SfnEvent): void {
  const step = stepOf(mapping, event);
  const failure = failureOf(event);
  if (failure) return onFailure(step, failure);
  if (SCHEDULED.has(step.type)) return onScheduled(step);
  if (step.type.endsWith('StateEntered') && event.stateEnteredEventDetails) return onStateEntered(step, event.stateEnteredEventDetails);
  if (step.type.endsWith('StateExited') && event.stateExitedEventDetails) return onStateExited(step, event.stateExitedEventDetails);
  if (step.iteration) return onIteration(mapping, step, step.iteration);
  onOther(mapping, step);
}

export function historyEventsFromAws(events: readonly SfnEvent[]): HistoryEvent[] {
  const mapping = new Mapping();
  for (const event of events) mapEvent(mapping, event);
  return mapping.out;
}
