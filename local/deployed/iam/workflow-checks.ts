import { taskStates } from '../../runtime/definition.js';
import type { DeployedStack, DeployedStateMachine } from '../assembly.js';
import type { ServiceInvocation } from '../harness.js';
import { arnMatches } from './conditions.js';
import { actionMatches, statementsOf } from './evaluate.js';
import { TemplatePolicies } from './policies.js';

/**
 * The checks that read the template and the definition together, without a run:
 * - the state machine's role may invoke exactly the functions its Lambda Tasks reference (each function also through its
 *   qualified ARNs `<arn>:*`, as CDK's grantInvoke writes it), and nothing else;
 * - each Task's TimeoutSeconds is above its function's Timeout, so the function's own timeout (retried as
 *   Sandbox.Timedout) fires before the Task's States.Timeout;
 * - each service that invoked a function (API Gateway, EventBridge) is allowed by an AWS::Lambda::Permission for that
 *   function, principal and source ARN.
 */

export interface InvokeGrantProblems {
  /** Task Resources the role may not invoke. */
  notAllowed: string[];
  /** Resources the role may invoke that no Task references. */
  extra: string[];
}

interface AnyState {
  Type: string;
  Resource?: string;
  TimeoutSeconds?: number;
  ItemProcessor?: { States: Record<string, AnyState> };
  Iterator?: { States: Record<string, AnyState> };
  Branches?: Array<{ States: Record<string, AnyState> }>;
}

export function stateMachineInvokeGrants(stack: DeployedStack, machine: DeployedStateMachine): InvokeGrantProblems {
  // Lambda Tasks only: a service integration (startExecution.sync:2) is granted by its own actions, not InvokeFunction.
  const tasks = [...new Set(taskStates(JSON.parse(machine.definition) as { States: Record<string, AnyState> }).map((t) => t.resource))].filter((arn) => /^arn:[^:]+:lambda:/.test(arn));
  const granted = new TemplatePolicies(stack.resolver)
    .identity(machine.roleLogicalId)
    .flatMap((p) => statementsOf(p.document))
    .filter((s) => s.Effect === 'Allow' && ([] as string[]).concat(s.Action ?? []).some((a) => actionMatches(a, 'lambda:InvokeFunction')))
    .flatMap((s) => ([] as string[]).concat(s.Resource ?? []));
  const covers = (pattern: string, arn: string) => arnMatches(pattern, arn);
  return {
    notAllowed: tasks.filter((arn) => !granted.some((g) => covers(g, arn))),
    extra: granted.filter((g) => !tasks.some((arn) => g === arn || g === `${arn}:*`)),
  };
}

export interface TimeoutMismatch {
  state: string;
  taskTimeoutSeconds: number | undefined;
  functionTimeoutSeconds: number;
}

/** Tasks whose TimeoutSeconds is missing or not above the function's timeout. */
export function timeoutMismatches(stack: DeployedStack, machine: DeployedStateMachine): TimeoutMismatch[] {
  const found: TimeoutMismatch[] = [];
  const walk = (states: Record<string, AnyState>) => {
    for (const [name, state] of Object.entries(states)) {
      const fn = state.Type === 'Task' ? stack.functions.find((f) => f.arn === state.Resource) : undefined;
      if (fn && !(typeof state.TimeoutSeconds === 'number' && state.TimeoutSeconds > fn.timeoutSeconds)) {
        found.push({ state: name, taskTimeoutSeconds: state.TimeoutSeconds, functionTimeoutSeconds: fn.timeoutSeconds });
      }
      for (const nested of [state.ItemProcessor, state.Iterator, ...(state.Branches ?? [])]) if (nested) walk(nested.States);
    }
  };
  walk((JSON.parse(machine.definition) as { States: Record<string, AnyState> }).States);
  return found;
}

/** Service invocations no AWS::Lambda::Permission allows. */
export function unpermittedServiceInvocations(stack: DeployedStack, invocations: ServiceInvocation[]): ServiceInvocation[] {
  const permissions = stack.resourcesOfType('AWS::Lambda::Permission').map((p) => p.properties);
  const functionOf = (name: string) => stack.functions.find((f) => f.arn === name || f.functionName === name)?.arn;
  return invocations.filter(
    (call) =>
      !permissions.some(
        (p) =>
          actionMatches(String(p.Action), 'lambda:InvokeFunction') &&
          functionOf(String(p.FunctionName)) === call.functionArn &&
          p.Principal === call.principal &&
          (p.SourceArn === undefined || arnMatches(String(p.SourceArn), call.sourceArn)),
      ),
  );
}
