import { RunnerGone, startRunner, type RunnerChild } from './ipc.js';

/**
 * The runner process as the soak's operator sees it: started, killed with SIGKILL and started again on the same data
 * folder, restarted too if it dies by itself (counted as a crash: a finding). Calls wait while it is being restarted.
 */
export class RunnerHost {
  kills = 0;
  crashes = 0;
  /** Executions each new runner found left RUNNING by the one before and ended (ExecutionInterrupted). */
  readonly interrupted: string[] = [];
  #child!: RunnerChild;
  #up!: Promise<void>;
  #killing = false;
  #closing = false;
  #queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly env: Record<string, string>,
    private readonly onMessage: (message: Record<string, unknown>) => void,
  ) {
    this.#start();
  }

  #start(): void {
    const child = startRunner(this.env, this.onMessage);
    this.#child = child;
    this.#up = child.ready.then((message) => {
      this.interrupted.push(...((message.recovered as string[] | undefined) ?? []));
    });
    void child.exited.then(() => {
      if (this.#killing || this.#closing || this.#child !== child) return;
      this.crashes += 1;
      this.#start();
    });
  }

  /** Resolves once a runner is up (waiting through restarts). */
  async up(): Promise<void> {
    for (;;) {
      const up = this.#up;
      try {
        await up;
        return;
      } catch {
        if (this.#up === up) await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  async call<T>(type: string, payload: Record<string, unknown>): Promise<T> {
    await this.up();
    return this.#child.call<T>(type, payload);
  }

  /** SIGKILL, then a new runner on the same folder; kills never overlap. */
  kill(): Promise<void> {
    this.#queue = this.#queue.then(async () => {
      await this.up();
      this.#killing = true;
      this.#child.process.kill('SIGKILL');
      await this.#child.exited;
      this.kills += 1;
      this.#killing = false;
      this.#start();
      await this.up();
    });
    return this.#queue;
  }

  async close(): Promise<void> {
    await this.#queue;
    this.#closing = true;
    const child = this.#child;
    if (child.process.exitCode !== null || child.process.signalCode !== null) return;
    if (child.process.connected) child.process.send({ id: 0, type: 'close' });
    const timer = setTimeout(() => child.process.kill('SIGKILL'), 10_000);
    await child.exited;
    clearTimeout(timer);
  }
}

export { RunnerGone };
