import { randomUUID } from 'node:crypto';
import type { ExecutionRecord } from '../runtime/history.js';
import type { DeployedStack } from './assembly.js';

/**
 * EventBridge as the template configures it, for the one event this stack routes: Step Functions' "Execution Status
 * Change". When an execution ends, the event is built as Step Functions sends it, matched against every enabled
 * AWS::Events::Rule's EventPattern, and handed to each Lambda target of a matching rule (the whole event, as a target
 * without Input or InputTransformer receives it). Other targets (SNS) are listed as not delivered.
 */

export interface StatusChangeEvent {
  version: '0';
  id: string;
  'detail-type': 'Step Functions Execution Status Change';
  source: 'aws.states';
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown> & { executionArn: string; stateMachineArn: string; name: string; status: string };
}

export interface RuleTarget {
  ruleLogicalId: string;
  ruleArn: string;
  targetArn: string;
  /** The input the target receives, or why it is not delivered here. */
  input: { event: unknown } | { notDelivered: string };
}

export class UnsupportedEventPattern extends Error {
  override readonly name = 'UnsupportedEventPattern';
}

export function statusChangeEvent(record: ExecutionRecord, account: string, region: string): StatusChangeEvent {
  const ms = (iso: string | undefined) => (iso ? Date.parse(iso) : null);
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    account,
    time: (record.stopDate ?? new Date().toISOString()).replace(/\.\d{3}Z$/, 'Z'),
    region,
    resources: [record.executionArn],
    detail: {
      executionArn: record.executionArn,
      stateMachineArn: record.stateMachineArn,
      name: record.executionName,
      status: record.status,
      startDate: ms(record.startDate),
      stopDate: ms(record.stopDate),
      input: JSON.stringify(record.input),
      output: record.output === undefined ? null : JSON.stringify(record.output),
      inputDetails: { included: true },
      outputDetails: { included: true },
      error: record.error ?? null,
      cause: record.cause ?? null,
      redriveCount: record.events.filter((e) => e.type === 'ExecutionRedriven').length,
    },
  };
}

/** EventBridge matching for patterns of exact values (arrays of strings, numbers, booleans), nested by field. */
export function patternMatches(pattern: unknown, event: unknown): boolean {
  if (typeof pattern !== 'object' || pattern === null || Array.isArray(pattern)) throw new UnsupportedEventPattern(`pattern ${JSON.stringify(pattern)}`);
  return Object.entries(pattern as Record<string, unknown>).every(([field, wanted]) => {
    const value = (event as Record<string, unknown> | null)?.[field];
    if (!Array.isArray(wanted)) return patternMatches(wanted, value);
    if (wanted.some((w) => typeof w === 'object' && w !== null)) throw new UnsupportedEventPattern(`content filter in ${field}`);
    const values = Array.isArray(value) ? value : [value];
    return values.some((v) => wanted.includes(v as never));
  });
}

/** Every target of every enabled rule the event matches, with what it would receive. */
export function targetsFor(stack: DeployedStack, event: StatusChangeEvent): RuleTarget[] {
  const found: RuleTarget[] = [];
  for (const { logicalId, properties } of stack.resourcesOfType('AWS::Events::Rule')) {
    if (properties.State === 'DISABLED' || !properties.EventPattern || !patternMatches(properties.EventPattern, event)) continue;
    const ruleArn = stack.resolver.getAtt(logicalId, 'Arn');
    for (const target of (properties.Targets ?? []) as Array<Record<string, unknown>>) {
      const targetArn = String(target.Arn);
      const isFunction = stack.functions.some((f) => f.arn === targetArn);
      const input: RuleTarget['input'] = !isFunction
        ? { notDelivered: 'not a Lambda function' }
        : target.Input !== undefined
          ? { event: JSON.parse(String(target.Input)) }
          : target.InputTransformer || target.InputPath
            ? { notDelivered: 'InputPath and InputTransformer are not supported locally' }
            : { event };
      found.push({ ruleLogicalId: logicalId, ruleArn, targetArn, input });
    }
  }
  return found;
}
