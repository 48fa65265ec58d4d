/**
 * The retry budgets of statemachine/attachment-vault.asl.json, computed from the file: for each Task and retrier,
 * the delays before each retry (IntervalSeconds x BackoffRate^n, capped at MaxDelaySeconds), their sum (the most a
 * file or step waits before its error is final) and, with full jitter (each delay uniform in [0, cap]), half of it
 * as the expected wait. docs/faults.md quotes these rows; budgets.test.ts keeps them in step.
 */
import { readFileSync } from 'node:fs';
import { ASL_PATH } from '../../local/runtime/definition.js';

interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  BackoffRate?: number;
  MaxAttempts?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: 'FULL' | 'NONE';
}

interface State {
  Type: string;
  Retry?: Retrier[];
  ItemProcessor?: { States: Record<string, State> };
}

export interface Budget {
  state: string;
  errors: string[];
  intervalSeconds: number;
  backoffRate: number;
  maxAttempts: number;
  maxDelaySeconds: number | undefined;
  jitter: 'FULL' | 'NONE';
  /** Delay before each retry, seconds, before jitter. */
  delays: number[];
  maxTotalSeconds: number;
  expectedTotalSeconds: number;
}

export function budgetOf(state: string, r: Retrier): Budget {
  const intervalSeconds = r.IntervalSeconds ?? 1;
  const backoffRate = r.BackoffRate ?? 2;
  const maxAttempts = r.MaxAttempts ?? 3;
  const delays = Array.from({ length: maxAttempts }, (_, n) => Math.min(intervalSeconds * backoffRate ** n, r.MaxDelaySeconds ?? Infinity));
  const maxTotalSeconds = delays.reduce((a, b) => a + b, 0);
  const jitter = r.JitterStrategy ?? 'NONE';
  return {
    state,
    errors: r.ErrorEquals,
    intervalSeconds,
    backoffRate,
    maxAttempts,
    maxDelaySeconds: r.MaxDelaySeconds,
    jitter,
    delays,
    maxTotalSeconds,
    expectedTotalSeconds: jitter === 'FULL' ? maxTotalSeconds / 2 : maxTotalSeconds,
  };
}

export function retryBudgets(): Budget[] {
  const asl = JSON.parse(readFileSync(ASL_PATH, 'utf8')) as { States: Record<string, State> };
  const out: Budget[] = [];
  const walk = (states: Record<string, State>) => {
    for (const [name, state] of Object.entries(states)) {
      for (const retrier of state.Retry ?? []) out.push(budgetOf(name, retrier));
      if (state.ItemProcessor) walk(state.ItemProcessor.States);
    }
  };
  walk(asl.States);
  return out;
}

const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.TooManyRequestsException',
];

const seconds = (s: number) => {
  const rounded = Math.round(s);
  return rounded >= 120 ? `${rounded} s (${(rounded / 60).toFixed(1)} min)` : `${rounded} s`;
};

function errorsText(errors: string[]): string {
  const lambda = LAMBDA_SERVICE_ERRORS.every((e) => errors.includes(e));
  const rest = errors.filter((e) => !lambda || !LAMBDA_SERVICE_ERRORS.includes(e));
  return [...(lambda ? ['Lambda service errors (5)'] : []), ...rest].join(', ');
}

/**
 * The docs/faults.md budget table: one row per distinct retrier (errors and shape), with the states that use it:
 * `| States | Errors | Interval · backoff · retries · cap · jitter | Max total wait | Expected total wait |`.
 */
export function budgetRows(budgets: Budget[] = retryBudgets()): string[] {
  const rows = new Map<string, { states: string[]; rest: string }>();
  for (const b of budgets) {
    const shape = `${b.intervalSeconds} s · ×${b.backoffRate} · ${b.maxAttempts} retries · cap ${b.maxDelaySeconds ?? '∞'} s · ${b.jitter}`;
    const rest = `${errorsText(b.errors)} | ${shape} | ${seconds(b.maxTotalSeconds)} | ${seconds(b.expectedTotalSeconds)} |`;
    const row = rows.get(rest) ?? { states: [], rest };
    row.states.push(b.state);
    rows.set(rest, row);
  }
  return [...rows.values()].map((r) => `| ${r.states.join(', ')} | ${r.rest}`);
}
