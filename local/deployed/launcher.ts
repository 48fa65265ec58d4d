import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DeployedFunction } from './assembly.js';
import { RuntimeApiServer, type InvocationOutcome } from './runtime-api.js';

/**
 * Runs a function's deployed bundle the way Lambda does: each execution environment is its own Node.js process, the
 * runtime inside it polls a local Runtime API (runtime-api.ts) and loads the handler by its handler string from the
 * staged asset directory (LAMBDA_TASK_ROOT), with the environment it is given and nothing else inherited.
 *
 * - Runtime: aws-lambda-ric (AWS's runtime interface client) when its native client is installed, else the minimal
 *   runtime-loop.ts; `lambdaRuntime()` says which, `ATTACHMENT_VAULT_LAMBDA_RUNTIME=ric|builtin` forces one.
 * - Timeout: the function's Timeout is enforced per invocation, from the moment the runtime takes it (initialization
 *   has Lambda's own 10 s limit). When it passes, the process is killed and the invocation fails as Lambda reports
 *   it: `Sandbox.Timedout`, "Task timed out after N seconds". A process that
 *   exits during an invocation fails it with `Runtime.ExitError`. A dead environment is replaced on the next invoke.
 * - Concurrency: environments are started on demand, up to `maxEnvironments`, and kept warm; more concurrent
 *   invocations wait for a free one (Lambda would scale out; here the box has two cores). `warm()` starts one ahead.
 */

export type LambdaRuntime = { kind: 'ric'; entry: string; version: string } | { kind: 'builtin'; entry: string };

export class LambdaRuntimeUnavailable extends Error {
  override readonly name = 'LambdaRuntimeUnavailable';
}

/** Lambda's limit on a function's initialization (on demand). */
export const INIT_TIMEOUT_MS = 10_000;

const BUILTIN_LOOP = path.join(path.dirname(fileURLToPath(import.meta.url)), 'runtime-loop.ts');

/** aws-lambda-ric when it is installed with its native client built; the built-in loop otherwise. */
export function lambdaRuntime(choice = process.env.ATTACHMENT_VAULT_LAMBDA_RUNTIME ?? 'auto'): LambdaRuntime {
  if (choice !== 'builtin') {
    try {
      const manifest = createRequire(import.meta.url).resolve('aws-lambda-ric/package.json');
      const dir = path.dirname(manifest);
      const { version, main } = createRequire(import.meta.url)(manifest) as { version: string; main: string };
      if (existsSync(path.join(dir, 'rapid-client.node'))) return { kind: 'ric', entry: path.join(dir, main), version };
      if (choice === 'ric') throw new LambdaRuntimeUnavailable(`aws-lambda-ric ${version} is installed without its native client (rapid-client.node)`);
    } catch (error) {
      if (choice === 'ric') throw error instanceof LambdaRuntimeUnavailable ? error : new LambdaRuntimeUnavailable('aws-lambda-ric is not installed');
    }
  }
  return { kind: 'builtin', entry: BUILTIN_LOOP };
}

export interface FunctionProcessOptions {
  fn: DeployedFunction;
  /** The process's whole environment (the harness adds endpoints and credentials to the template's). */
  env: Record<string, string>;
  runtime?: LambdaRuntime;
  maxEnvironments?: number;
  /** Lines the processes print (logs), as they come. */
  onLog?: (line: string, fn: DeployedFunction) => void;
}

/** One execution environment: a process and the Runtime API it polls. */
class ExecutionEnvironment {
  busy = false;
  dead = false;

  private constructor(
    private readonly api: RuntimeApiServer,
    private readonly child: ChildProcess,
  ) {}

  static async start(options: FunctionProcessOptions, runtime: LambdaRuntime): Promise<ExecutionEnvironment> {
    const api = await RuntimeApiServer.start();
    const { fn } = options;
    const env = { ...options.env, AWS_LAMBDA_RUNTIME_API: api.address, AWS_LAMBDA_LOG_STREAM_NAME: `local/[$LATEST]${randomUUID().replace(/-/g, '')}` };
    const args = runtime.kind === 'ric' ? [runtime.entry, fn.handler] : [runtime.entry];
    const child = spawn(process.execPath, args, { cwd: fn.codeDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const environment = new ExecutionEnvironment(api, child);
    for (const stream of [child.stdout, child.stderr]) {
      let rest = '';
      stream?.on('data', (chunk: Buffer) => {
        const lines = (rest + chunk.toString('utf8')).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) options.onLog?.(line, fn);
      });
    }
    child.on('exit', (code, signal) => {
      environment.dead = true;
      api.abandon(api.initError ?? { errorType: 'Runtime.ExitError', errorMessage: `Runtime exited with error: ${signal ? `signal: ${signal}` : `exit status ${code}`}` });
    });
    return environment;
  }

  /**
   * One invocation. The function's timeout runs from the moment the runtime takes the invocation, as in Lambda, where
   * initialization has its own limit (INIT_TIMEOUT_MS, then the invocation fails the same way).
   */
  async invoke(event: string, fn: DeployedFunction): Promise<InvocationOutcome> {
    const requestId = randomUUID();
    const timeoutMs = fn.timeoutSeconds * 1000;
    const kill = (errorMessage: string) => () => {
      this.dead = true;
      this.child.kill('SIGKILL');
      this.api.abandon({ errorType: 'Sandbox.Timedout', errorMessage });
    };
    let timer = setTimeout(kill(`RequestId: ${requestId} Error: the runtime did not initialize within ${INIT_TIMEOUT_MS / 1000} seconds`), INIT_TIMEOUT_MS);
    try {
      return await this.api.deliver({
        event,
        timeoutMs,
        invokedFunctionArn: fn.arn,
        requestId,
        onStart: () => {
          clearTimeout(timer);
          timer = setTimeout(kill(`RequestId: ${requestId} Error: Task timed out after ${fn.timeoutSeconds.toFixed(2)} seconds`), timeoutMs);
        },
      });
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves once the runtime has initialized and polls for work; false if the process ended first. */
  initialized(): Promise<boolean> {
    return Promise.race([this.api.polled.then(() => true), new Promise<boolean>((resolve) => this.child.once('exit', () => resolve(false)))]);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      this.child.kill('SIGKILL');
      await exited;
    }
    await this.api.close();
  }
}

/** A function's execution environments: invoke() runs one invocation in a free (or new) one. */
export class FunctionProcesses {
  private readonly environments: ExecutionEnvironment[] = [];
  private readonly queue: Array<() => void> = [];
  readonly runtime: LambdaRuntime;
  /** Invocations handed to this function so far. */
  invocations = 0;

  constructor(private readonly options: FunctionProcessOptions) {
    this.runtime = options.runtime ?? lambdaRuntime();
  }

  get fn(): DeployedFunction {
    return this.options.fn;
  }

  /** Runs one invocation: the event as JSON text in, the runtime's answer out. */
  async invoke(event: string): Promise<InvocationOutcome> {
    const environment = await this.acquire();
    this.invocations++;
    try {
      return await environment.invoke(event, this.options.fn);
    } finally {
      environment.busy = false;
      if (environment.dead) await this.discard(environment);
      this.queue.shift()?.();
    }
  }

  /**
   * Starts one execution environment now and waits for its runtime to initialize, so that a first invocation does
   * not pay the cold start (what provisioned concurrency does in Lambda). Throws if the runtime cannot start.
   */
  async warm(): Promise<void> {
    if (this.environments.some((e) => !e.dead)) return;
    const started = await ExecutionEnvironment.start(this.options, this.runtime);
    this.environments.push(started);
    if (!(await started.initialized())) throw new LambdaRuntimeUnavailable(`${this.options.fn.logicalId}: the runtime exited before it asked for work`);
  }

  private async acquire(): Promise<ExecutionEnvironment> {
    for (;;) {
      for (const gone of this.environments.filter((e) => e.dead && !e.busy)) await this.discard(gone);
      const free = this.environments.find((e) => !e.busy && !e.dead);
      if (free) {
        free.busy = true;
        return free;
      }
      if (this.environments.length < (this.options.maxEnvironments ?? 2)) {
        const started = await ExecutionEnvironment.start(this.options, this.runtime);
        started.busy = true;
        this.environments.push(started);
        return started;
      }
      await new Promise<void>((resolve) => this.queue.push(resolve));
    }
  }

  private async discard(environment: ExecutionEnvironment): Promise<void> {
    this.environments.splice(this.environments.indexOf(environment), 1);
    await environment.stop();
  }

  async close(): Promise<void> {
    await Promise.all(this.environments.splice(0).map((e) => e.stop()));
  }
}
