import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** One line of an execution's history, as the local engine reports it (state data holds IDs only). */
export interface HistoryEvent {
  timestamp: string;
  type: string;
  state?: string;
  /** Map iteration index, for events inside CopyAttachments. */
  index?: number;
  error?: string;
  cause?: string;
  attempt?: number;
  input?: unknown;
  output?: unknown;
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';

export interface ExecutionRecord {
  executionName: string;
  executionArn: string;
  stateMachineArn: string;
  status: ExecutionStatus;
  input: unknown;
  output?: unknown;
  error?: string;
  cause?: string;
  startDate: string;
  stopDate?: string;
  /**
   * While RUNNING: the process of the local engine that runs it. A RUNNING record whose process is gone was
   * interrupted (the process was killed): LocalEngine.recoverInterrupted() ends it so it can be redriven or re-run.
   */
  pid?: number;
  events: HistoryEvent[];
  /** What the local engine measured against Step Functions' limits (events as AWS counts them; bytes of JSON). */
  limits?: {
    historyEvents: number;
    largestPayloadBytes: number;
    largestPayloadAt: string;
    /** With a Distributed Map: its child executions, and the largest history and payload among them. */
    childExecutions?: number;
    largestChildHistoryEvents?: number;
    largestChildPayloadBytes?: number;
    largestChildPayloadAt?: string;
  };
}

let saves = 0;

/** Keeps every local execution as a JSON file, so `executions list/show` work locally as they do on AWS. */
export class ExecutionHistory {
  constructor(private readonly dir: string) {}

  private file(name: string): string {
    return join(this.dir, `${name}.json`);
  }

  /**
   * Writes the record whole or not at all (a temporary file renamed over the old one): a process killed while saving
   * leaves the previous version, never half a JSON document that would break get() and list() for every execution.
   */
  async save(record: ExecutionRecord): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const file = this.file(record.executionName);
    const partial = `${file}.${process.pid}.${++saves}.tmp`;
    await writeFile(partial, `${JSON.stringify(record, null, 2)}\n`);
    await rename(partial, file);
  }

  async get(name: string): Promise<ExecutionRecord | undefined> {
    try {
      return JSON.parse(await readFile(this.file(name), 'utf8')) as ExecutionRecord;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async list(): Promise<ExecutionRecord[]> {
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter((n) => n.endsWith('.json'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const records = await Promise.all(names.map((n) => this.get(n.slice(0, -'.json'.length))));
    return records.filter((r): r is ExecutionRecord => r !== undefined).sort((a, b) => b.startDate.localeCompare(a.startDate));
  }
}
