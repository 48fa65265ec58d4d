import type { RequestBudget } from '../request-budget.js';
import ky, { isHTTPError, isKyError, type KyInstance, type RetryOptions } from 'ky';
import { logger } from '../logger.js';
import {
  VaultError,
  ZendeskAuthFailed,
  ZendeskRateLimited,
  ZendeskRequestFailed,
  ZendeskUnavailable,
} from '../errors.js';

/**
 * The HTTP plumbing shared by the API calls and downloads: ky instances with one retry policy, Retry-After
 * parsing, and the mapping of every failure onto the error vocabulary. Error messages name the route, the IDs and
 * the status only: never a URL (content URLs carry tokens), a file name, a body or a credential.
 */

export interface RetrySettings {
  /** ky retries for 408/429/5xx and network errors (not counting the first attempt). */
  limit: number;
  /** Exponential backoff base: baseDelayMs * 2^(attempt-1), with full jitter. */
  baseDelayMs: number;
  /** Upper bound of one backoff delay (server Retry-After waits are bounded by maxInProcessRetryAfterSeconds). */
  maxDelayMs: number;
  /** updateTags: re-read-and-retry rounds after a 409 before UpdateConflict. */
  conflictRetries: number;
  /** updateTags: base of the (jittered, doubling) wait between 409 rounds. */
  conflictDelayMs: number;
}

export const DEFAULT_RETRY: RetrySettings = {
  limit: 4,
  baseDelayMs: 300,
  maxDelayMs: 10_000,
  conflictRetries: 5,
  conflictDelayMs: 250,
};

/** Used for ZendeskRateLimited when a 429 carries no usable Retry-After. */
export const DEFAULT_RATE_LIMIT_SECONDS = 60;

/** Every call is idempotent by design (safe_update tag writes, redaction), so POST and PUT are retried too. */
const RETRY_METHODS = ['get', 'head', 'put', 'post', 'delete'];

/** Retry-After as whole seconds (delta-seconds or HTTP-date); undefined when absent or unreadable. */
export function retryAfterSeconds(headers: Headers, now: number = Date.now()): number | undefined {
  const raw = headers.get('retry-after')?.trim();
  if (!raw) return undefined;
  if (/^\d+$/.test(raw)) return Number(raw);
  const at = Date.parse(raw);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

const TRANSPORT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

/** A failure below HTTP that ky may not recognise (e.g. from a custom fetch): a coded socket error or a fetch TypeError. */
export function isTransportError(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 4; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && TRANSPORT_CODES.has(code)) return true;
    if (current.name === 'TypeError' && depth === 0) return true;
    current = current.cause;
  }
  return false;
}

export function isAbortError(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError') && !isKyError(error);
}

export function kyRetryOptions(settings: RetrySettings, maxInProcessRetryAfterSeconds: number): RetryOptions {
  return {
    limit: settings.limit,
    methods: RETRY_METHODS,
    statusCodes: [408, 429, 500, 502, 503, 504],
    afterStatusCodes: [429, 503],
    // A Retry-After above the in-process ceiling is refused in shouldRetry; this also caps ky's fallback to
    // RateLimit-Reset style headers when Retry-After is missing.
    maxRetryAfter: maxInProcessRetryAfterSeconds * 1000,
    backoffLimit: settings.maxDelayMs,
    delay: (attempt) => settings.baseDelayMs * 2 ** (attempt - 1),
    jitter: true,
    retryOnTimeout: true,
    shouldRetry: ({ error }) => {
      if (isHTTPError(error)) {
        const { status, headers } = error.response;
        if (status === 429 || status === 503) {
          const seconds = retryAfterSeconds(headers);
          // Too long to wait inside a Lambda: surface ZendeskRateLimited and let the state machine wait.
          if (seconds !== undefined && seconds > maxInProcessRetryAfterSeconds) return false;
          return undefined; // ky's default: wait Retry-After, no jitter
        }
        // Every other 5xx except "not implemented" ones is worth another try.
        if (status >= 500 && status !== 501 && status !== 505) return true;
        return undefined;
      }
      if (isKyError(error)) return undefined; // NetworkError / TimeoutError: ky's defaults retry them
      return isTransportError(error) ? true : undefined;
    },
  };
}

/**
 * The retry policy of a write whose effect cannot be seen when its answer is lost: a redaction. It is retried inside
 * the step only when Zendesk said it did not act (429, 503, with a Retry-After the step may wait). A reset, a timeout
 * or another 5xx may come after Zendesk redacted: sending the request again would name files already redacted, so the
 * failure surfaces (ZendeskUnavailable) and the step's retry lists the comments first, sending only what is still there.
 */
export function unappliedOnlyRetry(maxInProcessRetryAfterSeconds: number): Pick<RetryOptions, 'shouldRetry'> {
  return {
    shouldRetry: ({ error }) => {
      if (!isHTTPError(error)) return false;
      const { status, headers } = error.response;
      if (status !== 429 && status !== 503) return false;
      const seconds = retryAfterSeconds(headers);
      return seconds !== undefined && seconds > maxInProcessRetryAfterSeconds ? false : undefined;
    },
  };
}

export interface HttpSettings {
  retry: RetrySettings;
  maxInProcessRetryAfterSeconds: number;
  timeoutMs: number;
  userAgent: string;
  fetch?: typeof fetch;
}

function logRetry(route: unknown, retryCount: number, error: Error): void {
  const status = isHTTPError(error) ? error.response.status : undefined;
  logger.warn('Zendesk request retried', {
    route: typeof route === 'string' ? route : 'unknown',
    retry: retryCount,
    ...(status === undefined ? { failure: error.name } : { status }),
  });
}

/**
 * One ky instance per purpose. Callers pass `context: { route }`, used only for logging.
 * Downloads: redirect 'manual' (3xx come back as responses, never followed by fetch), only >= 400 throws, and no
 * afterResponse hooks (each would clone, i.e. tee, the body stream). ky's timeout covers waiting for the headers
 * of each hop only; the caller streams the body without a timeout, bounded by its own signal.
 */
export function createHttp(settings: HttpSettings, purpose: 'api' | 'download', baseUrl?: string, budget?: RequestBudget): KyInstance {
  return ky.create({
    ...(baseUrl ? { baseUrl } : {}),
    ...(settings.fetch ? { fetch: settings.fetch } : {}),
    headers: { 'user-agent': settings.userAgent },
    timeout: settings.timeoutMs,
    retry: kyRetryOptions(settings.retry, settings.maxInProcessRetryAfterSeconds),
    credentials: 'omit',
    // An empty 2xx body (204, or a 200 without content) reads as undefined instead of failing JSON.parse.
    parseJson: (text: string) => (text.trim() === '' ? undefined : JSON.parse(text)),
    ...(purpose === 'download' ? { redirect: 'manual' as const, throwHttpErrors: (status: number) => status >= 400 } : {}),
    hooks: {
      beforeRetry: [
        ({ options, error, retryCount }) => logRetry(options.context.route, retryCount, error),
        // A retry is a request too.
        ...(budget ? [async () => void (await budget.take())] : []),
      ],
      // Every API request (OAuth token requests included) takes a token of the shared budget first.
      ...(budget
        ? {
            beforeRequest: [async () => void (await budget.take())],
            afterResponse: [async ({ response }: { response: Response }) => void (await budget.observe(response.status, response.headers))],
          }
        : {}),
    },
  });
}

/** Where a failure happened, for messages: `getTicket ticket 123`. */
export interface Route {
  route: string;
  subject: string;
  /** Per-status outcomes that differ from the defaults (e.g. 404 -> TicketNotFound). `data` is the parsed error body. */
  statuses?: Partial<Record<number, (message: string, data: unknown) => Error>>;
}

export function describeRoute(route: Route): string {
  return route.subject ? `${route.route} ${route.subject}` : route.route;
}

/** ky's error.data is parsed JSON for JSON content types and text otherwise; JSON sent as text is parsed here. */
export function errorBody(data: unknown): unknown {
  if (typeof data !== 'string') return data;
  try {
    return JSON.parse(data);
  } catch {
    return data;
  }
}

/** The `error` field of a Zendesk JSON error body (`{"error":"RecordNotFound",...}`), if any. */
export function errorCode(data: unknown): string | undefined {
  const body = errorBody(data);
  if (typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'string') {
    return (body as { error: string }).error;
  }
  return undefined;
}

/** The default meaning of a final HTTP status. */
export function fromStatus(
  status: number,
  headers: Headers,
  message: string,
  maxInProcessRetryAfterSeconds: number,
): VaultError {
  const retryAfter = retryAfterSeconds(headers);
  if (status === 401 || status === 403) return new ZendeskAuthFailed(message);
  if (status === 408) return new ZendeskUnavailable(message);
  if (status === 429) return new ZendeskRateLimited(message, retryAfter ?? DEFAULT_RATE_LIMIT_SECONDS);
  if (status === 503 && retryAfter !== undefined && retryAfter > maxInProcessRetryAfterSeconds) {
    return new ZendeskRateLimited(message, retryAfter);
  }
  if (status >= 500) return new ZendeskUnavailable(message);
  return new ZendeskRequestFailed(message, status);
}

/**
 * Maps anything a call threw onto the vocabulary. VaultErrors pass through; a caller's own abort is rethrown as is
 * (the caller asked for it). The original error is deliberately not attached as `cause`: ky errors carry URLs.
 */
export function toVaultError(error: unknown, route: Route, maxInProcessRetryAfterSeconds: number): Error {
  if (error instanceof VaultError || isAbortError(error)) return error as Error;
  const where = describeRoute(route);
  if (isHTTPError(error)) {
    const { status, headers } = error.response;
    const message = `${where}: Zendesk answered ${status}`;
    const special = route.statuses?.[status];
    if (special) return special(message, error.data);
    return fromStatus(status, headers, message, maxInProcessRetryAfterSeconds);
  }
  if (error instanceof SyntaxError) return new ZendeskUnavailable(`${where}: unreadable response body`);
  const kind = error instanceof Error ? error.name : 'unknown';
  return new ZendeskUnavailable(`${where}: request failed after retries (${kind})`);
}

/** Full-jitter exponential wait, for the loops ky cannot own (409 re-read rounds). */
export function backoff(baseMs: number, attempt: number, capMs: number): Promise<void> {
  const ms = Math.random() * Math.min(capMs, baseMs * 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
