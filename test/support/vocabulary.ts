/**
 * The ASL against the error vocabulary: what each Task retries and catches, compared with what its step declares it can
 * raise (lambdas/<step>/errors.ts). Returns every problem in words; empty when the map and the code agree.
 */
import {
  IDEMPOTENCY_ERRORS,
  INTEGRATION_ERRORS,
  INTERRUPTION_ERRORS,
  isAwsDefinedError,
  LAMBDA_SERVICE_ERRORS,
  retryableNamesOf,
  VAULT_ERRORS,
  type StepErrors,
} from '../../lambdas/shared/errors.js';

export interface AslState {
  Type: string;
  Resource?: string;
  Retry?: Array<{ ErrorEquals: string[] }>;
  Catch?: Array<{ ErrorEquals: string[] }>;
  ItemProcessor?: { States: Record<string, AslState> };
}

export function tasksOf(states: Record<string, AslState>): Array<[string, AslState]> {
  return Object.entries(states).flatMap(([name, state]) => [
    ...(state.Type === 'Task' ? [[name, state] as [string, AslState]] : []),
    ...(state.ItemProcessor ? tasksOf(state.ItemProcessor.States) : []),
  ]);
}

function allMatchers(states: Record<string, AslState>): Array<[string, string]> {
  return Object.entries(states).flatMap(([name, state]) => [
    ...[...(state.Retry ?? []), ...(state.Catch ?? [])].flatMap((m) => m.ErrorEquals.map((e) => [name, e] as [string, string])),
    ...(state.ItemProcessor ? allMatchers(state.ItemProcessor.States) : []),
  ]);
}

/** `errorsOf(taskName)`: the step's declaration, or undefined when the Task names no known step. */
export function vocabularyProblems(states: Record<string, AslState>, errorsOf: (task: string, state: AslState) => StepErrors | undefined): string[] {
  const problems: string[] = [];
  for (const [state, name] of allMatchers(states)) {
    if (!(name in VAULT_ERRORS) && !isAwsDefinedError(name)) problems.push(`${state}: "${name}" is neither in lambdas/shared/errors.ts nor an AWS-defined name`);
  }
  for (const [task, state] of tasksOf(states)) {
    const integration = INTEGRATION_ERRORS[state.Resource ?? ''];
    if (integration) {
      problems.push(...integrationProblems(task, state, integration));
      continue;
    }
    const declared = errorsOf(task, state);
    if (!declared) {
      problems.push(`${task}: no lambdas/<step>/errors.ts declares what it raises`);
      continue;
    }
    const retried = new Set((state.Retry ?? []).flatMap((r) => r.ErrorEquals));
    const caught = new Set((state.Catch ?? []).flatMap((c) => c.ErrorEquals));
    const raisable = new Set<string>([
      ...declared.vault,
      ...(declared.idempotency ?? []),
      ...LAMBDA_SERVICE_ERRORS,
      ...(declared.idempotent ? INTERRUPTION_ERRORS : []),
    ]);
    for (const name of [...retried, ...caught]) {
      if (!raisable.has(name)) problems.push(`${task}: matches ${name}, which it cannot raise`);
    }
    for (const name of LAMBDA_SERVICE_ERRORS) if (!retried.has(name)) problems.push(`${task}: does not retry the Lambda service error ${name}`);
    for (const name of retryableNamesOf(declared)) if (!retried.has(name)) problems.push(`${task}: can raise the retryable ${name} but does not retry it`);
    for (const name of retried) {
      const vault = VAULT_ERRORS[name as keyof typeof VAULT_ERRORS] as unknown as (new (m: string, x?: number) => { retryable: boolean }) | undefined;
      const permanent = (vault && !new vault('probe', 0).retryable) || IDEMPOTENCY_ERRORS[name as keyof typeof IDEMPOTENCY_ERRORS] === false;
      if (permanent) problems.push(`${task}: retries ${name}, which is permanent`);
    }
  }
  return problems;
}

/** A service integration's Task (no Lambda): it matches only the integration's errors, and retries its retryable ones. */
function integrationProblems(task: string, state: AslState, errors: Readonly<Record<string, boolean>>): string[] {
  const problems: string[] = [];
  const retried = new Set((state.Retry ?? []).flatMap((r) => r.ErrorEquals));
  const caught = new Set((state.Catch ?? []).flatMap((c) => c.ErrorEquals));
  for (const name of [...retried, ...caught]) if (!(name in errors)) problems.push(`${task}: matches ${name}, which ${state.Resource} does not raise`);
  for (const [name, retryable] of Object.entries(errors)) {
    if (retryable && !retried.has(name)) problems.push(`${task}: can raise the retryable ${name} but does not retry it`);
    if (!retryable && retried.has(name)) problems.push(`${task}: retries ${name}, which is permanent`);
  }
  return problems;
}
