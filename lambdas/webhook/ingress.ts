import { createHash } from 'node:crypto';
import { ticketIdOf } from '../shared/ids.js';
import type { DeliveryLedger } from './deliveries.js';
import type { ExecutionInput } from '../shared/types.js';
import { DEFAULT_TOLERANCE_SECONDS, verifyZendeskSignature } from '../shared/signature.js';

/**
 * The webhook's logic, free of Lambda and AWS: a normalized HTTP request in, an HTTP response out.
 * The Lambda handler (handler.ts) and the local runtime (`attachment-vault serve`) both call createIngress(), so the
 * same checks run everywhere. Replies follow docs/zendesk.md#webhook-retries-and-duplicates: Zendesk retries only 409, 429/503 with
 * a short Retry-After, and timeouts, so 4xx means "do not retry" and 503 + Retry-After means "try again".
 */

export const MAX_BODY_BYTES = 16 * 1024;
/** Step Functions allows 80 characters; `zd-` + 20-digit ticket + `-` leaves 56 for the invocation part. */
export const MAX_EXECUTION_NAME = 80;
export const RETRY_AFTER_SECONDS = 30;

export interface IngressRequest {
  method: string;
  /** Header names in lower case; one value per header. */
  headers: Record<string, string | undefined>;
  /** The body exactly as received (already base64-decoded). */
  rawBody: Buffer;
}

export interface IngressResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** Starts the workflow. Must reject with an error named `ExecutionAlreadyExists` for a name already used. */
export type StartExecution = (name: string, input: ExecutionInput) => Promise<unknown>;

/** The subset of the Powertools Logger the core uses (injected; silent by default). */
export interface IngressLog {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

export interface IngressDeps {
  /** The signing secret, or a getter called only once a request has passed the cheap checks. */
  secret: string | (() => string | Promise<string>);
  startExecution: StartExecution;
  /** The record of accepted deliveries: every repeat is answered 200 and starts nothing (see deliveries.ts). */
  deliveries?: DeliveryLedger;
  now?: () => Date;
  toleranceSeconds?: number;
  log?: IngressLog;
}

export type Ingress = (request: IngressRequest) => Promise<IngressResponse>;

const HEADER = {
  signature: 'x-zendesk-webhook-signature',
  timestamp: 'x-zendesk-webhook-signature-timestamp',
  invocationId: 'x-zendesk-webhook-invocation-id',
  webhookId: 'x-zendesk-webhook-id',
} as const;

const THROTTLE_NAMES = new Set(['ThrottlingException', 'TooManyRequests', 'TooManyRequestsException']);
const silent: IngressLog = { info() {}, warn() {}, error() {} };

function reply(statusCode: number, payload: Record<string, unknown>, extra: Record<string, string> = {}): IngressResponse {
  return {
    statusCode,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...extra },
    body: JSON.stringify(payload),
  };
}

/** One body for every signature failure: the reason is logged, never returned. */
const UNAUTHORIZED = () => reply(401, { message: 'unauthorized' });
const INTERNAL = () => reply(500, { message: 'internal error' });
const RETRY_LATER = () => reply(503, { message: 'try again later' }, { 'Retry-After': String(RETRY_AFTER_SECONDS) });

function isJsonContentType(value: string | undefined): boolean {
  if (!value) return false;
  const mediaType = value.split(';', 1)[0]!.trim().toLowerCase();
  return mediaType === 'application/json';
}

/** Keeps only characters safe in an execution name and in CloudWatch (docs/design.md#execution-names-and-duplicate-deliveries). */
export function sanitizeNamePart(value: string, maxLength: number): string {
  return value.replace(/[^0-9A-Za-z_-]/g, '').slice(0, maxLength);
}

/**
 * The invocation part of the execution name: Zendesk's invocation ID, or, when the header is absent, a
 * deterministic ID from the signed timestamp and body (a Zendesk retry of the same delivery maps to the same name).
 */
export function invocationIdOf(headers: IngressRequest['headers'], rawBody: Buffer, maxLength: number): string {
  const fromHeader = sanitizeNamePart(headers[HEADER.invocationId] ?? '', maxLength);
  if (fromHeader) return fromHeader;
  const digest = createHash('sha256')
    .update(headers[HEADER.timestamp] ?? '', 'utf8')
    .update(rawBody)
    .digest('hex');
  return `h${digest}`.slice(0, Math.min(33, maxLength));
}

export function executionNameFor(ticketId: string, invocationId: string): string {
  return `zd-${ticketId}-${invocationId}`.slice(0, MAX_EXECUTION_NAME);
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

function httpStatusOf(error: unknown): number | undefined {
  const status = (error as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

function isThrottled(error: unknown): boolean {
  if (THROTTLE_NAMES.has(errorName(error))) return true;
  const status = httpStatusOf(error);
  return status !== undefined && (status === 429 || status >= 500);
}

/** The first checks, before the secret is read: a wrong method, type or an oversized body costs nothing. */
function preflight(request: IngressRequest): IngressResponse | undefined {
  if (request.method.toUpperCase() !== 'POST') return reply(405, { message: 'method not allowed' }, { Allow: 'POST' });
  if (!isJsonContentType(request.headers['content-type'])) return reply(415, { message: 'content-type must be application/json' });
  if (request.rawBody.length > MAX_BODY_BYTES) return reply(413, { message: `body must be at most ${MAX_BODY_BYTES} bytes` });
  return undefined;
}

/** A signed delivery's meaning: the ticket, the execution it names, and the keys that identify a repeat of it. */
interface Delivery {
  ticketId: string;
  executionName: string;
  input: ExecutionInput;
  /**
   * Ledger keys of this delivery: its invocation id (Zendesk's retry of it), and a hash of what the signature covers
   * (timestamp and body). The invocation id header is not signed: a captured delivery replayed within the window under
   * new invocation ids has the same signed content, so it is a repeat too.
   */
  keys: string[];
}

function parseDelivery(request: IngressRequest): Delivery | IngressResponse {
  let payload: unknown;
  try {
    payload = JSON.parse(request.rawBody.toString('utf8'));
  } catch {
    return reply(400, { message: 'body must be a JSON object' });
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return reply(400, { message: 'body must be a JSON object' });
  const ticketId = ticketIdOf((payload as Record<string, unknown>).ticket_id);
  if (!ticketId) return reply(400, { message: 'ticket_id must be a ticket number (1-20 digits)' });
  const invocationId = invocationIdOf(request.headers, request.rawBody, MAX_EXECUTION_NAME - 4 - ticketId.length);
  const webhookId = sanitizeNamePart(request.headers[HEADER.webhookId] ?? '', MAX_EXECUTION_NAME) || undefined;
  return {
    ticketId,
    executionName: executionNameFor(ticketId, invocationId),
    input: { ticketId, source: 'webhook', invocationId, ...(webhookId ? { webhookId } : {}) },
    keys: [`invocation#${invocationId}`, `content#${signedContentHash(request)}`],
  };
}

/** SHA-256 of exactly what the signature covers: the timestamp header and the raw body. */
function signedContentHash(request: IngressRequest): string {
  return createHash('sha256').update(request.headers[HEADER.timestamp] ?? '', 'utf8').update(request.rawBody).digest('hex');
}

const duplicate = (executionName: string) => reply(200, { executionName, duplicate: true });

/** Builds the request handler. Never throws: every failure becomes an HTTP status. */
export function createIngress(deps: IngressDeps): Ingress {
  const log = deps.log ?? silent;
  const toleranceSeconds = deps.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const now = deps.now ?? (() => new Date());

  /** The signing secret, or the answer when it cannot be had (503 when a retry may help). */
  const signingSecret = async (): Promise<string | IngressResponse> => {
    try {
      const secret = typeof deps.secret === 'string' ? deps.secret : await deps.secret();
      if (secret) return secret;
      log.error('signing secret is empty');
      return INTERNAL();
    } catch (error) {
      const retryable = (error as { retryable?: unknown } | null)?.retryable === true;
      log.error('signing secret unavailable', { error: errorName(error) });
      return retryable ? RETRY_LATER() : INTERNAL();
    }
  };

  /** Claims the delivery, then starts its execution; gives the claim back when the start fails. */
  const start = async (delivery: Delivery): Promise<IngressResponse> => {
    const { ticketId, executionName } = delivery;
    if (deps.deliveries) {
      const claim = await deps.deliveries.claim(delivery.keys, executionName);
      if (!claim.claimed) {
        log.info('duplicate delivery: already accepted', { ticketId, executionName: claim.executionName });
        return duplicate(claim.executionName);
      }
    }
    try {
      await deps.startExecution(executionName, delivery.input);
    } catch (error) {
      const name = errorName(error);
      if (name === 'ExecutionAlreadyExists') {
        log.info('duplicate delivery: execution already exists', { ticketId, executionName });
        return duplicate(executionName);
      }
      await deps.deliveries?.release(delivery.keys);
      if (isThrottled(error)) {
        log.warn('Step Functions throttled StartExecution', { ticketId, executionName, error: name });
        return RETRY_LATER();
      }
      log.error('StartExecution failed', { ticketId, executionName, error: name });
      return INTERNAL();
    }
    log.info('execution started', { ticketId, executionName });
    return reply(202, { executionName });
  };

  const handle = async (request: IngressRequest): Promise<IngressResponse> => {
    const refused = preflight(request);
    if (refused) return refused;
    const secret = await signingSecret();
    if (typeof secret !== 'string') return secret;
    const check = verifyZendeskSignature({
      secret,
      timestamp: request.headers[HEADER.timestamp],
      signature: request.headers[HEADER.signature],
      rawBody: request.rawBody,
      now: now(),
      toleranceSeconds,
    });
    if (!check.ok) {
      log.warn('webhook signature rejected', { reason: check.reason });
      return UNAUTHORIZED();
    }
    const delivery = parseDelivery(request);
    return 'statusCode' in delivery ? delivery : start(delivery);
  };

  return async (request) => {
    try {
      return await handle(request);
    } catch (error) {
      if ((error as { retryable?: unknown } | null)?.retryable === true) {
        log.warn('delivery record unavailable', { error: errorName(error) });
        return RETRY_LATER();
      }
      // Defensive: a bug above must still answer with a generic 500, never a stack trace.
      log.error('ingress failed unexpectedly', { error: errorName(error) });
      return INTERNAL();
    }
  };
}
