import type { HistoryEvent } from './history.js';
import { causeMessage } from '../../lambdas/shared/errors.js';

/**
 * What describePath and summaryOf read: a local ExecutionRecord, or an AWS execution history mapped onto the same
 * events (local/cli/aws-history.ts). Events inside a Map iteration carry its `index`.
 */
export interface ExecutionEvents {
  events: HistoryEvent[];
}

type Fate = 'retried' | 'caught' | 'final';

/** What became of a failed attempt: the next event of the same lane (top level, or one iteration) says. */
function fateOf(events: HistoryEvent[], at: number): Fate {
  const failed = events[at]!;
  for (let i = at + 1; i < events.length; i++) {
    const next = events[i]!;
    if (next.index !== failed.index) continue;
    if (next.state === failed.state && next.type === 'StateRetried') return 'retried';
    if (next.state === failed.state && next.type === 'StateCaught') return 'caught';
    return 'final';
  }
  return 'final';
}

interface Iterations {
  count: number;
  failed: number;
  states: Map<string, number>;
  retries: number;
  errors: Map<string, number>;
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function iterationLine(entry: Iterations): string {
  const states = [...entry.states.entries()].map(([s, n]) => `${s} x${n}`).join(', ');
  const errors = [...entry.errors.entries()].map(([e, n]) => `${e} x${n}`).join(', ');
  return `  ${entry.count} iteration${entry.count === 1 ? '' : 's'}: ${states || 'no states'}${entry.retries ? `; ${entry.retries} retr${entry.retries === 1 ? 'y' : 'ies'}` : ''}${errors ? `; errors ${errors}` : ''}${entry.failed ? `; ${entry.failed} failed` : ''}`;
}

/**
 * States that only route (the wait ledger's Begin, the choice of Map (CopyMode), a Task's …Outcome choice, Record…Wait,
 * an iteration's closing …Done): left out of the path, they say nothing an operator acts on. Waits (WaitBefore…) stay: they are time spent.
 */
const PLUMBING = /^(?:Begin|CopyMode|[A-Za-z]+Outcome|Record[A-Za-z]+Wait|[A-Za-z]+AttachmentDone|[A-Za-z]+AtScaleDone)$/;

/**
 * The path through the states in words: top-level states in order, Map iterations folded into one line,
 * retries (with the error that caused them), caught errors and the final failure named. What an operator reads
 * in the console's Graph view.
 */
export function describePath(execution: ExecutionEvents): string[] {
  const { events } = execution;
  const lines: string[] = [];
  const iterations = new Map<string, Iterations>();
  /** The last failed attempt per lane and state, for retries and catches that do not carry the error themselves. */
  const lastError = new Map<string, string>();
  let currentMap: string | undefined;
  const flush = (state: string) => {
    const entry = iterations.get(state);
    if (entry && currentMap === state) {
      lines.push(iterationLine(entry));
      currentMap = undefined;
    }
  };
  events.forEach((event, at) => {
    const lane = `${event.index ?? ''}/${event.state ?? ''}`;
    if (event.type === 'StateFailed' && event.error) lastError.set(lane, event.error);
    if (event.type === 'MapIterationStarted' && event.state) {
      currentMap = event.state;
      const entry = iterations.get(event.state) ?? { count: 0, failed: 0, states: new Map(), retries: 0, errors: new Map() };
      entry.count += 1;
      iterations.set(event.state, entry);
      return;
    }
    if (event.index !== undefined && currentMap) {
      const entry = iterations.get(currentMap)!;
      if (event.type === 'StateEntered' && event.state && !PLUMBING.test(event.state)) bump(entry.states, event.state);
      else if (event.type === 'StateRetried') entry.retries += 1;
      else if (event.type === 'MapIterationFailed') entry.failed += 1;
      else if (event.type === 'StateFailed' && event.error && fateOf(events, at) !== 'retried') {
        bump(entry.errors, fateOf(events, at) === 'caught' ? `${event.error} (caught)` : event.error);
      }
      return;
    }
    switch (event.type) {
      case 'StateEntered':
        if (event.state && !PLUMBING.test(event.state)) lines.push(event.state);
        break;
      case 'StateRetried':
        if (event.state) {
          const error = event.error ?? lastError.get(lane);
          lines.push(`  retried ${event.state} (attempt ${(event.attempt ?? 0) + 1})${error ? ` after ${error}` : ''}`);
        }
        break;
      case 'StateCaught':
        if (event.state) lines.push(`  caught ${event.state}: ${event.error ?? lastError.get(lane) ?? 'Error'}`);
        break;
      case 'StateFailed':
        if (event.state) {
          flush(event.state);
          if (fateOf(events, at) === 'final') lines.push(`  failed ${event.state}: ${event.error ?? 'Error'}`);
        }
        break;
      case 'StateExited':
        if (event.state) flush(event.state);
        break;
      case 'ExecutionFailed':
        lines.push(`FAILED: ${event.error ?? 'Error'}${event.cause ? `: ${causeMessage(event.cause)}` : ''}`);
        break;
      case 'ExecutionSucceeded':
        lines.push('SUCCEEDED');
        break;
      case 'ExecutionAborted':
        lines.push(`ABORTED${event.error ? `: ${event.error}` : ''}`);
        break;
      case 'ExecutionTimeout':
      case 'ExecutionTimedOut':
        lines.push(`TIMED_OUT${event.error ? `: ${event.error}` : ''}`);
        break;
      case 'ExecutionRedriven':
        lines.push(`REDRIVEN${event.attempt ? ` (redrive ${event.attempt})` : ''}`);
        break;
      default:
        break;
    }
  });
  if (currentMap) lines.push(`${iterationLine(iterations.get(currentMap)!)} (in progress)`);
  return lines;
}
