import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The bench's child processes: each is this same Node binary with tsx, so every measured number is a
 * process of its own (fresh RSS), and their stdout goes to our stderr (our stdout carries only the JSON).
 */

export interface Reply<T = unknown> {
  id: number;
  ok: boolean;
  result?: T;
  error?: string;
}

export interface Child {
  process: ChildProcess;
  /** Sends one request and waits for its reply. */
  call<T>(type: string, payload?: Record<string, unknown>): Promise<T>;
  /** The first message the child sends by itself (`{ type: 'ready', ... }`). */
  ready: Promise<Record<string, unknown>>;
  /** Ends the child: asks it to close, then kills it if it does not exit within 5 s. */
  close(): Promise<void>;
}

export function benchFile(name: string): string {
  return fileURLToPath(new URL(name, import.meta.url));
}

export function startChild(file: string, env: Record<string, string | undefined> = {}): Child {
  const child = fork(benchFile(file), [], {
    execPath: process.execPath,
    execArgv: ['--expose-gc', '--import', 'tsx'],
    env: { ...process.env, ...env, NODE_NO_WARNINGS: '1' },
    stdio: ['ignore', 2, 2, 'ipc'],
  });
  let next = 0;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let resolveReady: (value: Record<string, unknown>) => void;
  let rejectReady: (error: Error) => void;
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  child.on('message', (message: Record<string, unknown>) => {
    if (message.type === 'ready') {
      resolveReady(message);
      return;
    }
    const reply = message as unknown as Reply;
    const waiting = pending.get(reply.id);
    if (!waiting) return;
    pending.delete(reply.id);
    if (reply.ok) waiting.resolve(reply.result);
    else waiting.reject(new Error(`${file}: ${reply.error ?? 'failed'}`));
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      const error = new Error(`${file} exited (code ${code}, signal ${signal})`);
      rejectReady(error);
      for (const waiting of pending.values()) waiting.reject(error);
      pending.clear();
      resolve();
    });
  });
  return {
    process: child,
    ready,
    call<T>(type: string, payload: Record<string, unknown> = {}): Promise<T> {
      const id = ++next;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
        child.send({ ...payload, id, type });
      });
    },
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        if (child.connected) child.send({ id: 0, type: 'close' });
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

type Handler = (message: Record<string, unknown>) => Promise<unknown> | unknown;

/** The child's side: answers each `{id, type}` with its handler's result; `close` ends the process. */
export function serve(handlers: Record<string, Handler>, onClose: () => Promise<void> = async () => undefined): void {
  process.on('message', (message: Record<string, unknown>) => {
    const id = Number(message.id);
    const type = String(message.type);
    if (type === 'close') {
      void onClose().finally(() => process.exit(0));
      return;
    }
    const handler = handlers[type];
    void (async () => {
      try {
        if (!handler) throw new Error(`unknown request ${type}`);
        const result = await handler(message);
        process.send?.({ id, ok: true, result } satisfies Reply);
      } catch (error) {
        process.send?.({ id, ok: false, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) } satisfies Reply);
      }
    })();
  });
  process.on('disconnect', () => {
    void onClose().finally(() => process.exit(0));
  });
}

/** Peak resident set size of this process so far, from the kernel (VmHWM), in bytes; current RSS off Linux. */
export function highWaterMark(): number {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]) * 1024;
  } catch {
    // not Linux
  }
  return process.memoryUsage.rss();
}
