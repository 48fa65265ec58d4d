import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * The soak's runner is a child process (this Node binary with tsx), so that it can be killed with SIGKILL while the
 * services it talks to (sandbox Zendesk, S3, DynamoDB) live on in the parent. Requests and replies over the IPC channel.
 */

/** A call that was in flight when the runner process ended (killed, or crashed). */
export class RunnerGone extends Error {
  override readonly name = 'RunnerGone';
  constructor(
    readonly exitedAt: number,
    message: string,
  ) {
    super(message);
  }
}

export interface RunnerChild {
  process: ChildProcess;
  ready: Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  call<T>(type: string, payload?: Record<string, unknown>): Promise<T>;
}

export function startRunner(env: Record<string, string | undefined>, onMessage: (message: Record<string, unknown>) => void): RunnerChild {
  const file = fileURLToPath(new URL('./runner.ts', import.meta.url));
  // SOAK_RUNNER_PROF=<dir>: a CPU profile of each runner (where the soak's time goes).
  const child = fork(file, [], {
    execPath: process.execPath,
    execArgv: ['--import', 'tsx', ...(process.env.SOAK_RUNNER_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.SOAK_RUNNER_PROF}`] : [])],
    env: { ...env, NODE_NO_WARNINGS: '1' },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  let next = 0;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let resolveReady!: (value: Record<string, unknown>) => void;
  let rejectReady!: (error: Error) => void;
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  ready.catch(() => undefined);
  child.on('message', (message: Record<string, unknown>) => {
    if (message.type === 'ready') return resolveReady(message);
    if (message.id === undefined) return onMessage(message);
    const waiting = pending.get(Number(message.id));
    if (!waiting) return;
    pending.delete(Number(message.id));
    if (message.ok) waiting.resolve(message.result);
    else waiting.reject(new Error(`runner: ${String(message.error ?? 'failed')}`));
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      const gone = new RunnerGone(Date.now(), `the runner exited (code ${code}, signal ${signal})`);
      rejectReady(gone);
      for (const waiting of pending.values()) waiting.reject(gone);
      pending.clear();
      resolve({ code, signal });
    });
  });
  return {
    process: child,
    ready,
    exited,
    call<T>(type: string, payload: Record<string, unknown> = {}): Promise<T> {
      if (child.exitCode !== null || child.signalCode !== null || !child.connected) {
        return Promise.reject(new RunnerGone(Date.now(), 'the runner is not running'));
      }
      const id = ++next;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
        child.send({ ...payload, id, type });
      });
    },
  };
}

type Handler = (message: Record<string, unknown>) => Promise<unknown>;

/** The runner's side: answers each `{id, type}` with its handler's result. */
export function serveRequests(handlers: Record<string, Handler>, onClose: () => Promise<void>): void {
  process.on('message', (message: Record<string, unknown>) => {
    const id = Number(message.id);
    const type = String(message.type);
    if (type === 'close') {
      void onClose().finally(() => process.exit(0));
      return;
    }
    void (async () => {
      try {
        const handler = handlers[type];
        if (!handler) throw new Error(`unknown request ${type}`);
        process.send?.({ id, ok: true, result: await handler(message) });
      } catch (error) {
        process.send?.({ id, ok: false, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
      }
    })();
  });
  // The parent is gone: nothing will ask any more.
  process.on('disconnect', () => process.exit(0));
}
