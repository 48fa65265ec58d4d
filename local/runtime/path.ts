import type { ExecutionRecord } from './history.js';

/**
 * The path through the states in words: top-level states in order, Map iterations folded into one line,
 * retries and caught errors named. What an operator reads in the console's Graph view.
 */
export function describePath(record: ExecutionRecord): string[] {
  const lines: string[] = [];
  const iterations = new Map<string, { count: number; states: Map<string, number>; retries: number; errors: Map<string, number> }>();
  let currentMap: string | undefined;
  for (const event of record.events) {
    if (event.type === 'MapIterationStarted' && event.state) {
      currentMap = event.state;
      const entry = iterations.get(event.state) ?? { count: 0, states: new Map(), retries: 0, errors: new Map() };
      entry.count += 1;
      iterations.set(event.state, entry);
      continue;
    }
    if (event.index !== undefined && currentMap) {
      const entry = iterations.get(currentMap)!;
      if (event.type === 'StateEntered' && event.state) entry.states.set(event.state, (entry.states.get(event.state) ?? 0) + 1);
      if (event.type === 'StateRetried') entry.retries += 1;
      if ((event.type === 'StateFailed' || event.type === 'StateCaught') && event.error) entry.errors.set(event.error, (entry.errors.get(event.error) ?? 0) + 1);
      continue;
    }
    if (event.type === 'StateEntered' && event.state) {
      lines.push(event.state);
    } else if (event.type === 'StateRetried' && event.state) {
      lines.push(`  retried ${event.state} (attempt ${(event.attempt ?? 0) + 1})${event.error ? ` after ${event.error}` : ''}`);
    } else if ((event.type === 'StateFailed' || event.type === 'StateCaught') && event.state && event.error) {
      lines.push(`  ${event.type === 'StateCaught' ? 'caught' : 'failed'} ${event.state}: ${event.error}`);
    } else if (event.type === 'StateExited' && event.state && iterations.has(event.state)) {
      const entry = iterations.get(event.state)!;
      const states = [...entry.states.entries()].map(([s, n]) => `${s} x${n}`).join(', ');
      const errors = [...entry.errors.entries()].map(([e, n]) => `${e} x${n}`).join(', ');
      lines.push(`  ${entry.count} iterations: ${states}${entry.retries ? `; ${entry.retries} retries` : ''}${errors ? `; errors ${errors}` : ''}`);
      currentMap = undefined;
    } else if (event.type === 'ExecutionFailed') {
      lines.push(`FAILED: ${event.error ?? 'Error'}${event.cause ? `: ${event.cause}` : ''}`);
    } else if (event.type === 'ExecutionSucceeded') {
      lines.push('SUCCEEDED');
    }
  }
  return lines;
}
