import { resolve } from 'node:path';
import { LocalEngine, type LocalEngineOptions } from './engine.js';
import { LOCAL_REGION } from './definition.js';
import type { ExecutionRecord } from './history.js';
import { randomSecret, startEmbeddedServices } from './services.js';
import { startSfnEndpoint } from './sfn-endpoint.js';
import { startSandboxZendesk, type SandboxZendesk } from '../sandbox/zendesk.js';
import { seedDemoTicket, DEMO_TICKET_ID } from './demo-ticket.js';

export interface LocalRuntime {
  engine: LocalEngine;
  /** The embedded sandbox Zendesk, when ZENDESK_URL was not set. */
  sandbox?: SandboxZendesk;
  /** The effective environment the handlers run with (secrets included: never print it). */
  env: Record<string, string | undefined>;
  dataDir: string;
  close(): Promise<void>;
}

export interface OpenLocalOptions extends Partial<Omit<LocalEngineOptions, 'historyDir'>> {
  env?: NodeJS.ProcessEnv;
  /** Seeds the demo ticket into an embedded sandbox (default true). */
  seedDemo?: boolean;
  /** Persist embedded S3 objects under the data dir (default true). */
  persistS3?: boolean;
  /**
   * Embed the archive index and audit trail even though S3 is configured (a test's own emulator in front of the
   * embedded sandbox Zendesk). Default: only with the embedded S3.
   */
  archiveIndex?: boolean;
  /**
   * With Wait states shortened: called with the seconds each shortened Wait stood for, so that a Zendesk that is not
   * embedded (a sandbox in another process) can move its clock as the embedded one does (followShortenedWaits).
   */
  onShortenedWait?: (seconds: number) => void;
  /** End executions that a killed engine process left RUNNING in the history (default true: recoverInterrupted). */
  recoverInterrupted?: boolean;
}

/**
 * The whole system on one machine: the environment the Lambdas would get in AWS, with whatever is not
 * configured replaced by an embedded service (sandbox Zendesk, fauxqs S3, dynalite DynamoDB), then the
 * local engine over the unchanged ASL. Sets process.env, because the handlers read it when imported.
 */
export async function openLocal(options: OpenLocalOptions = {}): Promise<LocalRuntime> {
  const base = { ...(options.env ?? process.env) };
  const dataDir = resolve(base.ATTACHMENT_VAULT_DATA_DIR ?? '.local');
  let sandbox: SandboxZendesk | undefined;
  const env: Record<string, string | undefined> = { ...base };
  env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  env.POWERTOOLS_SERVICE_NAME ??= 'attachment-vault';
  // No CloudWatch reads EMF lines here: the handlers' metrics (lambdas/shared/metrics.ts) stay off.
  env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  if (!env.ZENDESK_URL) {
    const email = 'vault@sandbox.example';
    const apiToken = randomSecret();
    sandbox = await startSandboxZendesk({ auth: { email, apiToken } });
    if (options.seedDemo !== false) await seedDemoTicket(sandbox);
    Object.assign(env, {
      ZENDESK_URL: sandbox.url,
      ZENDESK_EMAIL: email,
      ZENDESK_API_TOKEN: apiToken,
      ZENDESK_CONTENT_HOSTS: sandbox.contentOrigin,
    });
    delete env.ZENDESK_OAUTH_CLIENT_ID;
    delete env.ZENDESK_OAUTH_CLIENT_SECRET;
  }
  env.ZENDESK_WEBHOOK_SECRET ??= randomSecret();
  // With Wait states shortened (tests), a wait for the request budget would not let real time pass (the budget counts
  // real 10 s windows): unless a test sets its own limit (the budget's own tests, the backfill's, the bench), there is
  // no budget table and the steps call Zendesk directly, as before the budget.
  const requestBudget = options.waitMs === undefined || Boolean(env.ZENDESK_REQUESTS_PER_MINUTE);
  env.AWS_REGION ??= 'us-east-1';
  let services;
  try {
    services = await startEmbeddedServices(env, dataDir, { persistS3: options.persistS3 ?? true, requestBudget, ...(options.archiveIndex && sandbox ? { archiveIndex: true } : {}) });
  } catch (error) {
    await sandbox?.close();
    throw error;
  }
  Object.assign(env, services.env);
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  const engine = await LocalEngine.create({
    historyDir: resolve(dataDir, 'executions'),
    ...(options.retryIntervalMs !== undefined ? { retryIntervalMs: options.retryIntervalMs } : {}),
    ...(options.waitMs !== undefined ? { waitMs: options.waitMs } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    ...(options.historyLimit !== undefined ? { historyLimit: options.historyLimit } : {}),
    ...(options.contentionRetryMs !== undefined ? { contentionRetryMs: options.contentionRetryMs } : {}),
    ...(options.checkpointMs !== undefined ? { checkpointMs: options.checkpointMs } : {}),
    ...(options.lambdaTimeoutMs !== undefined ? { lambdaTimeoutMs: options.lambdaTimeoutMs } : {}),
    afterTask: async (stateName: string, input: unknown, output: unknown) => {
      const waited = options.waitMs !== undefined ? shortenedWaitSeconds(output) : 0;
      if (waited > 0) {
        sandbox?.advanceClock(waited);
        options.onShortenedWait?.(waited);
      }
      await options.afterTask?.(stateName, input, output);
    },
    onExecutionEnded: (record) => announceEnd(record, options.waitMs !== undefined ? [0, 0] : ASYNC_RETRY_DELAYS_MS),
    ...(options.beforeTask ? { beforeTask: options.beforeTask } : {}),
  });
  // The Step Functions API of the local engine, for the handlers (ticket lock) and the CLI, through the SDK's setting.
  const sfn = await startSfnEndpoint(engine);
  env.AWS_ENDPOINT_URL_SFN = sfn.url;
  process.env.AWS_ENDPOINT_URL_SFN = sfn.url;
  // Its handlers need the environment above (the release-ticket handler the EventBridge stand-in calls).
  if (options.recoverInterrupted !== false) await engine.recoverInterrupted();
  return {
    engine,
    ...(sandbox ? { sandbox } : {}),
    env,
    dataDir,
    close: async () => {
      await sfn.close();
      await services.close();
      await sandbox?.close();
    },
  };
}

/**
 * What the stack's EventBridge rule does in AWS: an execution that ended FAILED, TIMED_OUT or ABORTED goes to the
 * release-ticket handler (the ticket shows vault_failed, not vault_processing) and to the notify handler, which
 * reports runs that ended without reaching their own Notify state (an outage, left failed at the state that failed
 * for Redrive). The same event, the same handlers; awaited, so a command that ran the execution sees the tags.
 */
async function announceEnd(record: ExecutionRecord, retryDelaysMs: readonly number[]): Promise<void> {
  if (record.status === 'SUCCEEDED' || record.status === 'RUNNING') return;
  const event = {
    'detail-type': 'Step Functions Execution Status Change' as const,
    region: LOCAL_REGION,
    detail: {
      executionArn: record.executionArn,
      name: record.executionName,
      status: record.status,
      input: JSON.stringify(record.input),
      error: record.error ?? null,
      cause: record.cause ?? null,
    },
  };
  const release = await import('../../lambdas/release-ticket/handler.js');
  // In AWS an asynchronous invoke: its failure is retried, then logged, never the run's.
  await asynchronously(() => release.handler(event), retryDelaysMs).catch(() => undefined);
  if (record.events.some((e) => e.type === 'StateEntered' && e.state === 'Notify')) return;
  const notify = await import('../../lambdas/notify/handler.js');
  await asynchronously(() => notify.handler(event), retryDelaysMs);
}

/** Lambda retries a failed asynchronous invocation twice (after about 1 and 2 minutes); locally 1 s and 2 s. */
const ASYNC_RETRY_DELAYS_MS = [1000, 2000];

/**
 * An asynchronous invoke as Lambda makes it: a handler that throws is invoked again after each delay. Found by the
 * soak: with one attempt, a Zendesk 429 on release-ticket's tag write left a failed run's ticket vault_processing.
 */
async function asynchronously<T>(invoke: () => Promise<T>, retryDelaysMs: readonly number[]): Promise<T> {
  for (const delay of retryDelaysMs) {
    try {
      return await invoke();
    } catch {
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
  return invoke();
}

/**
 * When Wait states are shortened (tests), the sandbox's clock jumps by the time the workflow would have waited, so
 * Zendesk's rate-limit windows reset as they would have in real time. Every Wait follows a Task that asked for it: a
 * redaction pass deferred with retryAfterSeconds, or a step that answered waitSeconds. Returns those seconds (0: none).
 */
export function shortenedWaitSeconds(output: unknown): number {
  const result = output as { done?: boolean; retryAfterSeconds?: number; waitSeconds?: number } | undefined;
  if (typeof result?.waitSeconds === 'number' && result.waitSeconds > 0) return result.waitSeconds;
  if (result?.done === false && (result.retryAfterSeconds ?? 0) > 0) return result.retryAfterSeconds as number;
  return 0;
}

export { DEMO_TICKET_ID };
