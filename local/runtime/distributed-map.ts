import { randomUUID } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './definition.js';

/**
 * The local adapter for Step Functions' Distributed Map, which aws-local-stepfunctions does not run (it accepts a
 * DISTRIBUTED Map and silently runs it inline over the state's input, ignoring ItemReader and ResultWriter). The ASL
 * is not changed: before the engine sees the definition, each top-level DISTRIBUTED Map is swapped for a Task whose
 * local handler does what the Map Run does in AWS:
 *
 * 1. ItemReader (`arn:aws:states:::s3:getObject`, InputType JSON or JSONL, MaxItems) reads the items from S3;
 * 2. ItemSelector builds each child's input (JSONPath `.$` fields over the Map's input, `$$.Map.Item.Index|Value`
 *    and `$$.Execution.*`);
 * 3. each item runs the ItemProcessor as its own child execution (the engine's runChild: its own history-limit and
 *    payload guard, like a child execution's), at most MaxConcurrency / MaxConcurrencyPath at a time;
 * 4. more failed children than ToleratedFailureCount / ToleratedFailurePercentage (default 0) fail the state with
 *    `States.ExceedToleratedFailureThreshold`, after the children in flight are stopped;
 * 5. ResultWriter (`arn:aws:states:::s3:putObject`, Bucket, Prefix) writes `{Prefix}/{mapRunId}/manifest.json` and
 *    `SUCCEEDED_0.json` / `FAILED_0.json` in the format AWS documents, and the state's result is
 *    `{MapRunArn, ResultWriterDetails: {Bucket, Key}}`; without a ResultWriter, the array of outputs.
 *
 * Not emulated (documented in docs/design.md#the-local-engine): ItemBatcher, CSV and manifest readers,
 * s3:listObjectsV2, WriterConfig, Label, intrinsic functions in ItemSelector, nested Distributed Maps, and the
 * child execution's own `$$.Execution` (children get a derived name).
 */

export const LOCAL_DISTRIBUTED_MAP_ARN_PREFIX = `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:local-distributed-map-`;

export interface MapState {
  Type: 'Map';
  Comment?: string;
  ItemProcessor: { ProcessorConfig?: { Mode?: string; ExecutionType?: string }; StartAt: string; States: Record<string, unknown> };
  ItemReader?: { Resource: string; ReaderConfig?: { InputType?: string; MaxItems?: number }; Parameters?: Record<string, unknown> };
  ItemsPath?: string;
  ItemSelector?: Record<string, unknown>;
  MaxConcurrency?: number;
  MaxConcurrencyPath?: string;
  ToleratedFailureCount?: number;
  ToleratedFailurePercentage?: number;
  ResultWriter?: { Resource: string; Parameters: { Bucket?: string; 'Bucket.$'?: string; Prefix?: string } };
  InputPath?: string;
  ResultPath?: string | null;
  ResultSelector?: Record<string, unknown>;
  OutputPath?: string;
  Catch?: unknown[];
  Next?: string;
  End?: boolean;
}

export function isDistributedMap(state: { Type?: string; ItemProcessor?: { ProcessorConfig?: { Mode?: string } } }): state is MapState {
  return state.Type === 'Map' && state.ItemProcessor?.ProcessorConfig?.Mode === 'DISTRIBUTED';
}

/** The Task that stands in for a Distributed Map: same input and output handling, served by the adapter. */
export function asLocalTask(name: string, state: MapState): Record<string, unknown> {
  const keep = (['Comment', 'InputPath', 'ResultPath', 'ResultSelector', 'OutputPath', 'Catch', 'Next', 'End'] as const).filter((k) => state[k] !== undefined);
  return {
    Type: 'Task',
    Resource: `${LOCAL_DISTRIBUTED_MAP_ARN_PREFIX}${name}`,
    Parameters: { 'input.$': '$', 'execution.$': '$$.Execution' },
    // A Map state has no timeout, a Task's default is 60 s: about 23 days, the longest a Node.js timer can wait.
    TimeoutSeconds: 2_000_000,
    ...Object.fromEntries(keep.map((k) => [k, state[k]])),
  };
}

/** A JSONPath of the dotted form Step Functions' paths mostly use (`$`, `$.a.b`, `$$.Map.Item.Value`). */
export function readPath(path: string, input: unknown, context: unknown): unknown {
  const match = /^(\$\$?)((?:\.[A-Za-z_][A-Za-z0-9_-]*)*)$/.exec(path);
  if (!match) throw new Error(`The local Distributed Map supports dotted paths only, not ${path}`);
  let value: unknown = match[1] === '$$' ? context : input;
  for (const key of (match[2] ?? '').split('.').slice(1)) {
    if (typeof value !== 'object' || value === null || !(key in value)) throw Object.assign(new Error(`Invalid path '${path}': no ${key}`), { name: 'States.Runtime' });
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** A Parameters-style template: `key.$` fields read a path, nested objects recurse, the rest are literals. */
export function applyTemplate(template: unknown, input: unknown, context: unknown): unknown {
  if (Array.isArray(template)) return template.map((v) => applyTemplate(v, input, context));
  if (typeof template !== 'object' || template === null) return template;
  return Object.fromEntries(
    Object.entries(template).map(([key, value]) => {
      if (!key.endsWith('.$')) return [key, applyTemplate(value, input, context)];
      if (typeof value !== 'string' || value.startsWith('States.')) throw new Error(`The local Distributed Map does not evaluate ${key}: ${String(value)}`);
      return [key.slice(0, -2), readPath(value, input, context)];
    }),
  );
}

async function readItems(state: MapState, input: unknown, context: unknown, s3: S3Client): Promise<unknown[]> {
  const reader = state.ItemReader;
  if (!reader) {
    const items = readPath(state.ItemsPath ?? '$', input, context);
    if (!Array.isArray(items)) throw Object.assign(new Error('Items must be an array'), { name: 'States.Runtime' });
    return items;
  }
  if (reader.Resource !== 'arn:aws:states:::s3:getObject') throw new Error(`The local Distributed Map reads with s3:getObject only, not ${reader.Resource}`);
  const { Bucket, Key } = applyTemplate(reader.Parameters ?? {}, input, context) as { Bucket?: string; Key?: string };
  let text: string;
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket, Key }));
    text = (await object.Body?.transformToString('utf8')) ?? '';
  } catch (error) {
    throw Object.assign(new Error(`ItemReader could not read s3://${Bucket}/${Key}: ${(error as Error).name}`), { name: 'States.ItemReaderFailed' });
  }
  const type = reader.ReaderConfig?.InputType ?? 'JSON';
  const items = type === 'JSONL' ? text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as unknown) : (JSON.parse(text) as unknown);
  if (!Array.isArray(items)) throw Object.assign(new Error('ItemReader: the object is not a JSON array'), { name: 'States.ItemReaderFailed' });
  const max = reader.ReaderConfig?.MaxItems;
  return max ? items.slice(0, max) : items;
}

export type ChildOutcome = { status: 'SUCCEEDED'; output: unknown } | { status: 'FAILED' | 'ABORTED'; error: string; cause: string };

export interface ChildRun {
  done: Promise<ChildOutcome>;
  /** Stops the child (it ends ABORTED). */
  abort(): void;
}

export interface MapRunDeps {
  s3: S3Client;
  /** Starts the child execution of item `index` with `input`. */
  startChild(input: unknown, index: number, name: string): ChildRun;
}

interface ChildRecord {
  index: number;
  name: string;
  input: unknown;
  startDate: string;
  stopDate?: string;
  outcome?: ChildOutcome;
}

function toleratedFailures(state: MapState, total: number): number {
  const count = state.ToleratedFailureCount ?? 0;
  const byPercent = state.ToleratedFailurePercentage !== undefined ? Math.floor((state.ToleratedFailurePercentage / 100) * total) : 0;
  return Math.max(count, byPercent);
}

/** Runs every item, `concurrency` at a time; stops starting (and aborts the rest) past the tolerated failures. */
async function runChildren(inputs: unknown[], concurrency: number, tolerated: number, mapRunId: string, deps: MapRunDeps): Promise<{ children: ChildRecord[]; exceeded: boolean }> {
  const children: ChildRecord[] = [];
  const running = new Set<ChildRun>();
  let next = 0;
  let failed = 0;
  let exceeded = false;
  const worker = async (): Promise<void> => {
    while (!exceeded && next < inputs.length) {
      const index = next++;
      const record: ChildRecord = { index, name: `${mapRunId.slice(0, 8)}-${index}`, input: inputs[index], startDate: new Date().toISOString() };
      children.push(record);
      const run = deps.startChild(record.input, index, record.name);
      running.add(run);
      record.outcome = await run.done;
      running.delete(run);
      record.stopDate = new Date().toISOString();
      if (record.outcome.status !== 'SUCCEEDED' && ++failed > tolerated && !exceeded) {
        exceeded = true;
        for (const other of running) other.abort();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, inputs.length)) }, worker));
  return { children: children.sort((a, b) => a.index - b.index), exceeded };
}

/** ResultWriter's files, in the format AWS documents for a Map Run without WriterConfig. */
async function writeResults(state: MapState, input: unknown, context: unknown, mapRunArn: string, mapRunId: string, children: ChildRecord[], s3: S3Client) {
  const params = applyTemplate(state.ResultWriter?.Parameters ?? {}, input, context) as { Bucket: string; Prefix?: string };
  const prefix = `${params.Prefix ? `${params.Prefix.replace(/\/$/, '')}/` : ''}${mapRunId}`;
  const entry = (c: ChildRecord) => ({
    ExecutionArn: `${mapRunArn.replace(':mapRun:', ':execution:')}:${c.name}`,
    Input: JSON.stringify(c.input),
    InputDetails: { Included: true },
    Name: c.name,
    ...(c.outcome?.status === 'SUCCEEDED'
      ? { Output: JSON.stringify(c.outcome.output), OutputDetails: { Included: true } }
      : { Error: c.outcome && 'error' in c.outcome ? c.outcome.error : 'States.Runtime', Cause: c.outcome && 'cause' in c.outcome ? c.outcome.cause : '' }),
    RedriveCount: 0,
    StartDate: c.startDate,
    StateMachineArn: mapRunArn,
    Status: c.outcome?.status ?? 'ABORTED',
    StopDate: c.stopDate ?? new Date().toISOString(),
  });
  const files: Record<'SUCCEEDED' | 'FAILED' | 'PENDING', Array<{ Key: string; Size: number }>> = { SUCCEEDED: [], FAILED: [], PENDING: [] };
  for (const [status, members] of [
    ['SUCCEEDED', children.filter((c) => c.outcome?.status === 'SUCCEEDED')],
    ['FAILED', children.filter((c) => c.outcome?.status !== 'SUCCEEDED')],
  ] as const) {
    if (members.length === 0) continue;
    const body = JSON.stringify(members.map(entry));
    const key = `${prefix}/${status}_0.json`;
    await s3.send(new PutObjectCommand({ Bucket: params.Bucket, Key: key, Body: body, ContentType: 'application/json' }));
    files[status].push({ Key: key, Size: Buffer.byteLength(body) });
  }
  const manifestKey = `${prefix}/manifest.json`;
  const manifest = { DestinationBucket: params.Bucket, MapRunArn: mapRunArn, ResultFiles: files };
  await s3.send(new PutObjectCommand({ Bucket: params.Bucket, Key: manifestKey, Body: JSON.stringify(manifest), ContentType: 'application/json' }));
  return { MapRunArn: mapRunArn, ResultWriterDetails: { Bucket: params.Bucket, Key: manifestKey } };
}

/** The error a Map Run past its tolerated failures ends the state with (AWS's name and message). */
export class ExceedToleratedFailureThreshold extends Error {
  override readonly name = 'States.ExceedToleratedFailureThreshold';
  readonly isRetryable = false;
  constructor() {
    super('The specified tolerated failure threshold was exceeded');
  }
}

/** One Map Run: the handler of the Task that stands in for the Distributed Map `name`. */
export async function runDistributedMap(
  name: string,
  state: MapState,
  event: { input: unknown; execution: { Id: string; Name: string } },
  deps: MapRunDeps,
): Promise<unknown> {
  const { input, execution } = event;
  const base = { Execution: execution };
  const items = await readItems(state, input, base, deps.s3);
  const mapRunId = randomUUID();
  const stateMachine = execution.Id.replace(':execution:', ':mapRun:').replace(/:[^:]+$/, '');
  const mapRunArn = `${stateMachine}/${name}:${mapRunId}`;
  const inputs = items.map((value, index) => (state.ItemSelector ? applyTemplate(state.ItemSelector, input, { ...base, Map: { Item: { Index: index, Value: value } } }) : value));
  const concurrency = state.MaxConcurrencyPath !== undefined ? Number(readPath(state.MaxConcurrencyPath, input, base)) : (state.MaxConcurrency ?? 0);
  const { children, exceeded } = await runChildren(inputs, concurrency > 0 ? concurrency : 1000, toleratedFailures(state, inputs.length), mapRunId, deps);
  const written = state.ResultWriter ? await writeResults(state, input, base, mapRunArn, mapRunId, children, deps.s3) : undefined;
  if (exceeded) throw new ExceedToleratedFailureThreshold();
  return written ?? children.map((c) => (c.outcome as { output: unknown }).output);
}
