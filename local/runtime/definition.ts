import { readFileSync } from 'node:fs';
import { projectFile } from './paths.js';

/** The per-ticket state machine's one ASL file, deployed by CDK and executed unchanged here. */
export const ASL_PATH = projectFile('statemachine/attachment-vault.asl.json');
/** The backfill's one ASL file, likewise. */
export const BACKFILL_ASL_PATH = projectFile('statemachine/backfill.asl.json');

export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_STATE_MACHINE_ARN = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:attachment-vault-local`;
export const LOCAL_BACKFILL_STATE_MACHINE_ARN = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:attachment-vault-backfill-local`;

/** `${...}` placeholders in the ASL text, in order of first appearance. */
export function placeholdersOf(aslText: string): string[] {
  return [...new Set([...aslText.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1] as string))];
}

/** `MarkTicketFunctionArn` -> `mark-ticket`: the lambdas/ folder whose handler serves that Task. */
export function handlerFolderOf(placeholder: string): string {
  const match = /^([A-Za-z0-9]+)FunctionArn$/.exec(placeholder);
  if (!match) throw new Error(`Unknown ASL placeholder ${placeholder}: the local runtime only provides *FunctionArn`);
  return (match[1] as string).replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

export function localFunctionArn(placeholder: string): string {
  return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:attachment-vault-${handlerFolderOf(placeholder)}`;
}

/** The `${...}` placeholders that name a Lambda function (`*FunctionArn`); the others name resources. */
export function functionPlaceholdersOf(aslText: string): string[] {
  return placeholdersOf(aslText).filter((p) => p.endsWith('FunctionArn'));
}

/** The placeholders that are not functions, and where the local runtime takes their value. */
const RESOURCE_PLACEHOLDERS: Record<string, { env?: string; fallback: string }> = {
  // The Distributed Maps' ResultWriter bucket: the archive bucket (its runs/ and backfill/ prefixes).
  ArchiveBucketName: { env: 'ARCHIVE_BUCKET', fallback: 'attachment-vault-local' },
  // The backfill starts the per-ticket state machine.
  TicketStateMachineArn: { fallback: LOCAL_STATE_MACHINE_ARN },
};

/**
 * What the local runtime substitutes for every placeholder (CDK substitutes the real ones): a local ARN per function,
 * and each resource from the environment (ARCHIVE_BUCKET), as the handlers see it.
 */
export function localSubstitutions(aslText: string, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return Object.fromEntries(
    placeholdersOf(aslText).map((p) => {
      const resource = RESOURCE_PLACEHOLDERS[p];
      if (resource) return [p, (resource.env ? env[resource.env]?.trim() : undefined) || resource.fallback];
      return [p, localFunctionArn(p)];
    }),
  );
}

export function substitute(aslText: string, substitutions: Record<string, string>): string {
  return aslText.replace(/\$\{([A-Za-z0-9_]+)\}/g, (whole, name: string) => {
    const value = substitutions[name];
    if (value === undefined) throw new Error(`No substitution for \${${name}}`);
    return value;
  });
}

interface AnyState {
  Type: string;
  Resource?: string;
  ItemProcessor?: { States: Record<string, AnyState> };
  Iterator?: { States: Record<string, AnyState> };
  Branches?: Array<{ States: Record<string, AnyState> }>;
}

/** Every Task state (nested ones included) with its Resource. */
export function taskStates(definition: { States: Record<string, AnyState> }): Array<{ name: string; resource: string }> {
  const found: Array<{ name: string; resource: string }> = [];
  const walk = (states: Record<string, AnyState>) => {
    for (const [name, state] of Object.entries(states)) {
      if (state.Type === 'Task' && state.Resource) found.push({ name, resource: state.Resource });
      if (state.ItemProcessor) walk(state.ItemProcessor.States);
      if (state.Iterator) walk(state.Iterator.States);
      for (const branch of state.Branches ?? []) walk(branch.States);
    }
  };
  walk(definition.States);
  return found;
}

export function readAsl(path: string = ASL_PATH): string {
  return readFileSync(path, 'utf8');
}
