/**
 * Step Functions' hard limits, enforced by the local engine as AWS enforces them (the library it runs on enforces
 * neither), so that a test can prove a ticket fits instead of estimating it:
 * - 262,144 bytes (256 KiB, UTF-8) for any state's input and output, a Task's input, and a Task's result: beyond it
 *   the state fails with `States.DataLimitExceeded`, which no retrier or catcher takes (not even `States.ALL`);
 * - 25,000 events in a Standard execution's history: at the limit the execution fails.
 * docs/design.md#limits says how each is counted here.
 */
export const PAYLOAD_LIMIT_BYTES = 262_144;
export const HISTORY_LIMIT_EVENTS = 25_000;

/** Thrown into the engine (a Task's input or result too large, or a state's output seen too large before it). */
export class DataLimitExceeded extends Error {
  override readonly name = 'States.DataLimitExceeded';
  /** aws-local-stepfunctions reads this: no retrier may take it. */
  readonly isRetryable = false;
}

/** The error an execution fails with when its history is full (AWS's message; the error name is unconfirmed). */
export class HistoryLimitExceeded extends Error {
  override readonly name = 'States.Runtime';
  readonly isRetryable = false;
  constructor(limit = HISTORY_LIMIT_EVENTS) {
    super(`The execution reached the maximum number of history events (${limit}).`);
  }
}

export function payloadBytes(value: unknown): number {
  return value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value), 'utf8');
}

/** How many events AWS writes for one local history event (by the state's type): see docs/design.md#limits. */
function awsEventsOf(type: string, stateType: string | undefined): number {
  if (type === 'StateEntered' || type === 'StateExited') {
    if (stateType === 'Task') return type === 'StateEntered' ? 3 : 2; // Entered, Scheduled, Started | Succeeded, Exited
    if (stateType === 'Map') return 2; // MapStateEntered, MapStateStarted | MapStateSucceeded, MapStateExited
    return 1;
  }
  if (type === 'StateRetried') return 2; // Scheduled, Started again
  return 1; // StateFailed (LambdaFunctionFailed / MapStateFailed), MapIteration*, Execution*
}

/** Per execution: counts the history as AWS would and watches every payload. */
export class LimitGuard {
  events = 0;
  largestPayload = { bytes: 0, where: '' };
  breach: Error | undefined;

  constructor(
    private readonly stateTypes: Map<string, string>,
    private readonly historyLimit = HISTORY_LIMIT_EVENTS,
  ) {}

  /** One local history event (with its input or output, when it has one). */
  observe(event: { type: string; state?: string; input?: unknown; output?: unknown }): void {
    this.events += awsEventsOf(event.type, event.state ? this.stateTypes.get(event.state) : undefined);
    if (this.events > this.historyLimit) this.breach ??= new HistoryLimitExceeded(this.historyLimit);
    for (const [what, value] of [['input', event.input], ['output', event.output]] as const) {
      if (value === undefined) continue;
      this.payload(`${event.state ?? 'the execution'} ${what}`, value, event.state);
    }
  }

  /** A payload the engine saw; a breach is remembered, and also thrown when `throwNow`. */
  payload(where: string, value: unknown, state?: string, throwNow = false): void {
    const bytes = payloadBytes(value);
    if (bytes > this.largestPayload.bytes) this.largestPayload = { bytes, where };
    if (bytes <= PAYLOAD_LIMIT_BYTES) return;
    const error = new DataLimitExceeded(
      `The state/task '${state ?? where}' ${where.endsWith('output') || where.endsWith('result') ? 'returned a result' : 'received an input'} with a size (${bytes} bytes) exceeding the maximum number of bytes service limit (${PAYLOAD_LIMIT_BYTES}).`,
    );
    this.breach ??= error;
    if (throwNow) throw error;
  }

  /** Before a Task runs: lets the event stream catch up, then stops the execution if a limit was crossed. */
  async beforeTask(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    if (this.breach) throw this.breach;
  }
}
