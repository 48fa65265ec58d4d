import ky, { HTTPError } from 'ky';
import { notifySettings, type Env } from '../shared/config.js';
import { InvalidInput } from '../shared/errors.js';
import type { NotifyResult, Summary } from '../shared/types.js';
import { slackMessage, zapierPayload, type Interruption, type MessageLinks } from './format.js';

/**
 * Notify: build the message for the configured channel and POST it. A notification is a report, not part of the
 * work: nothing here throws for a delivery problem; the result says what happened (NotifyResult).
 * The webhook URL is a secret (it authorizes posting), so it never appears in a result, an error or a log.
 *
 * Environment (all optional):
 * - NOTIFY_FORMAT: `slack`, `zapier` (generic JSON) or `auto` (default: hooks.slack.com -> slack, else zapier).
 * - NOTIFY_RETRY_LIMIT: retries after the first attempt (default 3, 0-10), on 408/429/5xx, network errors, timeouts.
 * - NOTIFY_TIMEOUT_MS: per-attempt timeout (default 10000).
 * - NOTIFY_TOTAL_TIMEOUT_MS: budget for all attempts and waits (default 45000, inside the Lambda's 60 s).
 * - ZENDESK_URL: the ticket link is ZENDESK_URL + /agent/tickets/{id}.
 * - EXECUTION_CONSOLE_URL: template of the execution link, with {executionArn}, {executionName} and {region}.
 *   Default: the Step Functions console page when the ARN is known. Locally, e.g.
 *   `attachment-vault executions show {executionName}` (shown as text) or `file:///tmp/runs/{executionName}.json`.
 */

/** The Notify state's input: FinishTicket's summary plus `$$.Execution.Name` / `$$.Execution.Id`. */
export interface NotifyInput {
  summary: Summary;
  executionName?: string;
  executionArn?: string;
  /** Overrides the link built from ZENDESK_URL. */
  ticketUrl?: string;
  /** Set for an execution that failed before its Notify state (see outage.ts). */
  interruption?: Interruption;
}

export type NotifyFormat = 'slack' | 'zapier';

/** The run's summary.json, checked against the state's summary of the same ticket; InvalidInput otherwise. */
export function parseSummary(value: unknown, stated: Summary): Summary {
  const whole = value as Partial<Summary> | null;
  if (typeof whole !== 'object' || whole === null || whole.ticketId !== stated.ticketId || !Array.isArray(whole.attachments)) {
    throw new InvalidInput('summary.json is not the summary of this ticket');
  }
  return { ...stated, attachments: whole.attachments, truncated: false };
}

export const DEFAULT_CONSOLE_URL =
  'https://{region}.console.aws.amazon.com/states/home?region={region}#/v2/executions/details/{executionArn}';

export interface DeliveryOptions {
  /** Retries after the first attempt. Default 3. */
  retryLimit?: number;
  /** Per-attempt timeout in ms. Default 10 000. */
  timeoutMs?: number;
  /** Backoff before retry n (1-based), in ms, before jitter. Default 300 * 2^(n-1), capped at 5 s. */
  retryDelayMs?: (retry: number) => number;
  /** Longest wait honoured from a Retry-After header, in ms. Default 10 000. */
  maxRetryAfterMs?: number;
  /** Budget for all attempts and waits, in ms. Default 45 000 (the notify Lambda has 60 s). */
  totalTimeoutMs?: number;
  fetch?: typeof globalThis.fetch;
}

export interface DeliveryResult {
  delivered: boolean;
  attempts: number;
  error?: string;
}

const RETRY_STATUS_CODES = [408, 429, ...Array.from({ length: 100 }, (_, i) => 500 + i)];

/** A short error code from the receiver's body (Slack answers e.g. `invalid_payload`), never free text. */
function bodyCode(data: unknown): string | undefined {
  return typeof data === 'string' && /^[a-z_]{1,40}$/.test(data.trim()) ? data.trim() : undefined;
}

/** `HTTP 500`, `HTTP 400 invalid_payload`, `TimeoutError`, `NetworkError ECONNREFUSED`: never the URL. */
export function describeDeliveryError(error: unknown): string {
  if (error instanceof HTTPError) {
    const detail = bodyCode(error.data);
    return detail ? `HTTP ${error.response.status} ${detail}` : `HTTP ${error.response.status}`;
  }
  if (error instanceof Error) {
    let cause: unknown = error.cause;
    for (let depth = 0; depth < 3 && cause instanceof Error; depth += 1) {
      const codeValue = (cause as { code?: unknown }).code;
      if (typeof codeValue === 'string' && /^[A-Z_]{2,40}$/.test(codeValue)) return `${error.name} ${codeValue}`;
      cause = cause.cause;
    }
    return error.name;
  }
  return 'UnknownError';
}

/** POSTs JSON with retries and backoff. Never throws. */
export async function deliver(url: string, body: unknown, options: DeliveryOptions = {}): Promise<DeliveryResult> {
  let attempts = 0;
  const baseFetch = options.fetch ?? globalThis.fetch;
  const countingFetch: typeof globalThis.fetch = (input, init) => {
    attempts += 1;
    return baseFetch(input, init);
  };
  try {
    await ky
      .post(url, {
        json: body,
        timeout: options.timeoutMs ?? 10_000,
        totalTimeout: options.totalTimeoutMs ?? 45_000,
        retry: {
          limit: options.retryLimit ?? 3,
          methods: ['post'],
          statusCodes: RETRY_STATUS_CODES,
          afterStatusCodes: [429, 503],
          maxRetryAfter: options.maxRetryAfterMs ?? 10_000,
          delay: options.retryDelayMs ?? ((retry) => Math.min(300 * 2 ** (retry - 1), 5_000)),
          jitter: true,
          retryOnTimeout: true,
        },
        fetch: countingFetch,
      })
      .text();
    return { delivered: true, attempts };
  } catch (error) {
    return { delivered: false, attempts, error: describeDeliveryError(error) };
  }
}

/** Chooses the message format: NOTIFY_FORMAT, else by host. */
export function notificationFormat(url: string, env: Env = process.env): NotifyFormat {
  const configured = env.NOTIFY_FORMAT?.trim().toLowerCase();
  if (configured === 'slack') return 'slack';
  if (configured === 'zapier' || configured === 'generic' || configured === 'json') return 'zapier';
  try {
    const host = new URL(url).hostname;
    return host === 'hooks.slack.com' || host.endsWith('.slack.com') ? 'slack' : 'zapier';
  } catch {
    return 'zapier';
  }
}

function regionOf(executionArn: string | undefined, env: Env): string | undefined {
  const fromArn = executionArn?.split(':')[3];
  return fromArn || env.AWS_REGION?.trim() || undefined;
}

/** Fills the EXECUTION_CONSOLE_URL template; undefined when a placeholder it uses has no value. */
export function executionLinkFor(input: Pick<NotifyInput, 'executionArn' | 'executionName'>, env: Env = process.env) {
  const configured = env.EXECUTION_CONSOLE_URL?.trim();
  const template = configured || (input.executionArn?.startsWith('arn:aws') ? DEFAULT_CONSOLE_URL : undefined);
  if (!template) return undefined;
  const values: Record<string, string | undefined> = {
    executionArn: input.executionArn,
    executionName: input.executionName,
    region: regionOf(input.executionArn, env),
  };
  let missing = false;
  const link = template.replace(/\{(executionArn|executionName|region)\}/g, (_, key: string) => {
    const value = values[key];
    if (!value) missing = true;
    return value ?? '';
  });
  return missing ? undefined : link;
}

export function ticketUrlFor(ticketId: string, env: Env = process.env): string | undefined {
  const base = env.ZENDESK_URL?.trim();
  if (!base) return undefined;
  try {
    return `${new URL(base).origin}/agent/tickets/${encodeURIComponent(ticketId)}`;
  } catch {
    return undefined;
  }
}

export function linksFor(input: NotifyInput, env: Env = process.env): MessageLinks {
  return {
    ticketUrl: input.ticketUrl ?? ticketUrlFor(input.summary.ticketId, env),
    executionLink: executionLinkFor(input, env),
    executionName: input.executionName,
    ...(input.interruption ? { interruption: input.interruption } : {}),
  };
}

export function messageFor(input: NotifyInput, format: NotifyFormat, env: Env = process.env): unknown {
  const links = linksFor(input, env);
  return format === 'slack' ? slackMessage(input.summary, links) : zapierPayload(input.summary, links);
}

export function deliveryOptionsFrom(env: Env = process.env): DeliveryOptions {
  return notifySettings(env);
}

export interface NotifyDeps {
  /** The webhook URL; undefined turns notifications off. */
  url: string | undefined;
  env?: Env;
  delivery?: DeliveryOptions;
}

/** Formats and delivers one notification. Never throws. */
export async function notify(input: NotifyInput, deps: NotifyDeps): Promise<NotifyResult> {
  if (!deps.url) return { delivered: false, attempts: 0, format: 'none' };
  const env = deps.env ?? process.env;
  const format = notificationFormat(deps.url, env);
  let message: unknown;
  let options: DeliveryOptions;
  try {
    message = messageFor(input, format, env);
    options = { ...deliveryOptionsFrom(env), ...deps.delivery };
  } catch (error) {
    // A message that cannot be built, or an invalid NOTIFY_* setting: reported, never a failed run.
    return { delivered: false, attempts: 0, format, error: error instanceof Error ? error.name : 'FormatError' };
  }
  const result = await deliver(deps.url, message, options);
  return { format, ...result };
}
