import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { listenLocally } from './local-server.js';
import type { ExecutionInput } from '../../lambdas/shared/types.js';
import type { LocalEngine } from './engine.js';
import type { ExecutionRecord } from './history.js';

/**
 * A local Step Functions endpoint over the local engine: the operations of the AWS JSON 1.0 protocol the code calls
 * (`X-Amz-Target: AWSStepFunctions.<Operation>`), so handlers and the CLI use the real SFNClient against it through
 * the SDK's own setting, AWS_ENDPOINT_URL_SFN. It serves StartExecution, DescribeExecution and ListExecutions of the
 * local state machines; errors come back as Step Functions sends them (`{"__type": "ExecutionDoesNotExist", ...}`).
 * A thin adapter: the engine does the work. Given several engines (the deployed harness runs each state machine of the
 * template in its own), each call goes to the engine of the state machine its ARN names; one engine serves every call.
 */

export interface SfnEndpoint {
  url: string;
  close(): Promise<void>;
}

class SfnError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const seconds = (iso: string | undefined) => (iso ? Date.parse(iso) / 1000 : undefined);

function describe(record: ExecutionRecord) {
  return {
    executionArn: record.executionArn,
    stateMachineArn: record.stateMachineArn,
    name: record.executionName,
    status: record.status,
    startDate: seconds(record.startDate),
    ...(record.stopDate ? { stopDate: seconds(record.stopDate) } : {}),
    input: JSON.stringify(record.input),
    ...(record.output !== undefined ? { output: JSON.stringify(record.output) } : {}),
    ...(record.error ? { error: record.error } : {}),
    ...(record.cause ? { cause: record.cause } : {}),
    redriveCount: record.events.filter((e) => e.type === 'ExecutionRedriven').length,
  };
}

type Operation = (engine: LocalEngine, body: Record<string, unknown>) => Promise<unknown>;

/** `arn:…:execution:<machine>:<name>` (or a Map Run child's `<machine>/<label>:<name>`) -> `arn:…:stateMachine:<machine>`. */
function machineOfExecution(executionArn: string): string {
  const parts = executionArn.split(':');
  return [...parts.slice(0, 5), 'stateMachine', (parts[6] ?? '').split('/')[0]].join(':');
}

/** The engine a call is for: the one state machine, or the one its stateMachineArn or executionArn names. */
function engineFor(engines: readonly LocalEngine[], body: Record<string, unknown>): LocalEngine {
  if (engines.length === 1) return engines[0]!;
  const arn = typeof body.stateMachineArn === 'string' ? body.stateMachineArn : typeof body.executionArn === 'string' ? machineOfExecution(body.executionArn) : '';
  const engine = engines.find((e) => e.stateMachineArn === arn);
  if (engine) return engine;
  if (typeof body.executionArn === 'string') throw new SfnError('ExecutionDoesNotExist', `Execution Does Not Exist: '${body.executionArn}'`);
  throw new SfnError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
}

const OPERATIONS: Record<string, Operation> = {
  async StartExecution(engine, body) {
    const name = typeof body.name === 'string' ? body.name : `local-${Date.now()}`;
    let input: ExecutionInput;
    try {
      input = JSON.parse(typeof body.input === 'string' ? body.input : '{}') as ExecutionInput;
    } catch {
      throw new SfnError('InvalidExecutionInput', 'input is not JSON');
    }
    try {
      const started = await engine.start(input, name);
      const record = await engine.history.get(name);
      return { executionArn: started.executionArn, startDate: seconds(record?.startDate) ?? Date.now() / 1000 };
    } catch (error) {
      if (error instanceof Error && error.name === 'ExecutionAlreadyExists') throw new SfnError('ExecutionAlreadyExists', error.message);
      throw new SfnError('InvalidName', error instanceof Error ? error.message : 'cannot start');
    }
  },
  async DescribeExecution(engine, body) {
    const name = String(body.executionArn ?? '').split(':').pop() ?? '';
    const record = await engine.history.get(name);
    if (!record) throw new SfnError('ExecutionDoesNotExist', `Execution Does Not Exist: '${String(body.executionArn)}'`);
    return describe(record);
  },
  async ListExecutions(engine, body) {
    const status = typeof body.statusFilter === 'string' ? body.statusFilter : undefined;
    const records = (await engine.history.list()).filter((r) => !status || r.status === status);
    return {
      executions: records.map((r) => ({ ...describe(r), input: undefined, output: undefined })),
    };
  },
};

/** One call as the endpoint answered it (the deployed harness records them for its IAM check). */
export interface SfnCall {
  operation: string;
  body: Record<string, unknown>;
  headers: IncomingHttpHeaders;
  status: number;
}

export async function startSfnEndpoint(engine: LocalEngine | readonly LocalEngine[], options: { onCall?: (call: SfnCall) => void } = {}): Promise<SfnEndpoint> {
  const engines = Array.isArray(engine) ? engine : [engine as LocalEngine];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      void (async () => {
        const operation = String(request.headers['x-amz-target'] ?? '').replace(/^AWSStepFunctions\./, '');
        let body: Record<string, unknown> = {};
        const reply = (status: number, payload: unknown) => {
          options.onCall?.({ operation, body, headers: request.headers, status });
          response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify(payload));
        };
        try {
          const run = OPERATIONS[operation];
          if (!run) throw new SfnError('UnknownOperationException', `the local endpoint does not serve ${operation}`);
          body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {};
          reply(200, await run(engineFor(engines, body), body));
        } catch (error) {
          const type = error instanceof SfnError ? error.type : 'InternalFailure';
          reply(type === 'InternalFailure' ? 500 : 400, { __type: type, message: error instanceof Error ? error.message : 'error' });
        }
      })();
    });
  });
  return listenLocally(server);
}
