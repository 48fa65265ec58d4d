/**
 * The soak's runner: the local engine over the unchanged ASL, its handlers talking to the parent's sandbox Zendesk, S3
 * (through the fault proxy), DynamoDB and notification endpoint, its execution histories on disk in the shared data
 * folder. The parent kills it with SIGKILL and starts another on the same folder; that one first ends what the killed
 * one left RUNNING (recoverInterrupted), then takes requests: start an execution, redrive one.
 *
 * Environment (set by soak/soak.ts): the handlers' own settings, plus SOAK_LAMBDA_TIMEOUT_MS, SOAK_CHECKPOINT_MS and
 * SOAK_S3_DIRECT (the unfaulted S3, for reading the run's files back).
 */
import type { ExecutionInput } from '../lambdas/shared/types.js';
import { loadDocument, type FileReport } from '../cli/run.js';
import type { ExecutionRecord } from '../local/runtime/history.js';
import { openLocal } from '../local/runtime/local.js';
import { serveRequests } from './ipc.js';

export interface RunResult {
  name: string;
  ticketId: string;
  status: ExecutionRecord['status'];
  error?: string;
  cause?: string;
  alreadyRunning?: boolean;
  files: FileReport[];
}

export type RedriveResult = ({ redriven: true } & RunResult) | { redriven: false; error: string };

const number = (name: string, fallback: number): number => {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value >= 0 ? value : fallback;
};

const runtime = await openLocal({
  env: process.env,
  retryIntervalMs: 0,
  waitMs: 10,
  contentionRetryMs: 250,
  lambdaTimeoutMs: number('SOAK_LAMBDA_TIMEOUT_MS', 20_000),
  checkpointMs: number('SOAK_CHECKPOINT_MS', 1000),
  persistS3: false,
  seedDemo: false,
  recoverInterrupted: false,
  // The sandbox lives in the parent: its clock follows the shortened Waits there.
  onShortenedWait: (seconds) => process.send?.({ type: 'advanceClock', seconds }),
});
const readerEnv = { ...runtime.env, AWS_ENDPOINT_URL_S3: process.env.SOAK_S3_DIRECT ?? runtime.env.AWS_ENDPOINT_URL_S3 };

async function resultOf(record: ExecutionRecord): Promise<RunResult> {
  const doc = await loadDocument(record, readerEnv);
  return {
    name: record.executionName,
    ticketId: String((record.input as ExecutionInput).ticketId),
    status: record.status,
    ...(record.error ? { error: record.error } : {}),
    ...(record.cause ? { cause: record.cause.slice(0, 500) } : {}),
    ...(doc.outcome === 'already_running' ? { alreadyRunning: true } : {}),
    files: doc.summary.attachments,
  };
}

// What the killed runner left RUNNING ends now (FAILED, ExecutionInterrupted), its tickets released as after any failure.
const recovered = await runtime.engine.recoverInterrupted();

serveRequests(
  {
    start: async (message) => {
      const input: ExecutionInput = { ticketId: String(message.ticketId), source: message.source === 'rerun' ? 'rerun' : 'cli' };
      return resultOf(await runtime.engine.run(input, String(message.name)));
    },
    redrive: async (message): Promise<RedriveResult> => {
      let started;
      try {
        started = await runtime.engine.redrive(String(message.name));
      } catch (error) {
        if (error instanceof Error && error.name === 'ExecutionNotRedrivable') return { redriven: false, error: error.message };
        throw error;
      }
      return { redriven: true, ...(await resultOf(await started.done)) };
    },
  },
  () => runtime.close(),
);
process.send?.({ type: 'ready', pid: process.pid, recovered: recovered.map((r) => r.executionName) });
