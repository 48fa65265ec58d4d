import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { applyFaultBefore, deliver, type FaultLayer } from '../faults/index.js';
import type { SandboxAuth } from './auth.js';
import type { Exchange, Route, RouteKind, SandboxContext } from './context.js';
import { HttpError, isoSeconds, json, parseBody, readBody, zendeskError, type Reply } from './http.js';
import { safePath, type RequestLog } from './request-log.js';
import { resolve, type ResolvedRoute } from './routes.js';
import type { SandboxClock, WindowBudget } from './store.js';

/** The sandbox's HTTP side: listening, and answering one request (log, faults, account rate limit, auth, route). */

/** The account's per-minute limit: always counted and reported in headers; refused with 429 only when enforced. */
export interface AccountLimit {
  readonly budget: WindowBudget;
  enforce: boolean;
}

/** What answering a request needs. */
export interface ServerDeps {
  readonly ctx: SandboxContext;
  readonly routes: Route[];
  readonly auth: SandboxAuth;
  readonly faults: FaultLayer;
  readonly clock: SandboxClock;
  readonly accountLimit: AccountLimit;
  readonly log: RequestLog;
  /** Unexpected handler errors (answered 500). */
  readonly errors: Error[];
}

export async function listen(server: http.Server, port: number, host: string): Promise<string> {
  server.listen(port, host);
  await new Promise<void>((resolveListen, reject) => {
    server.once('listening', resolveListen);
    server.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${shown}:${address.port}`;
}

export async function closeServer(server: http.Server): Promise<void> {
  await new Promise<void>((resolveClose) => {
    server.close(() => resolveClose());
    server.closeAllConnections();
  });
}

/**
 * Whether a request spends the account budget: every API call, an unknown `/api/v2/` path included; not the OAuth token
 * endpoint, and not the token download URL (which Zendesk limits separately, 2,500 per minute).
 */
function isApiCall(role: Route['role'], found: ResolvedRoute | undefined, url: URL): boolean {
  if (role !== 'api') return false;
  if (!found) return url.pathname.startsWith('/api/v2/');
  return found.route.kind !== 'oauth' && found.route.kind !== 'download';
}

/** API calls spend the account budget and carry its rate headers, 429 included; the 429 itself only if enforced. */
async function dispatch(
  deps: ServerDeps,
  role: Route['role'],
  found: ResolvedRoute | undefined,
  req: IncomingMessage,
  url: URL,
): Promise<Reply> {
  const extraHeaders: Record<string, string> = {};
  if (isApiCall(role, found, url)) {
    const budget = deps.accountLimit.budget.consume('account');
    Object.assign(extraHeaders, {
      'x-rate-limit': String(budget.total),
      'x-rate-limit-remaining': String(budget.remaining),
      'ratelimit-limit': String(budget.total),
      'ratelimit-remaining': String(budget.remaining),
      'ratelimit-reset': String(budget.resets),
    });
    if (!budget.allowed && deps.accountLimit.enforce) {
      deps.ctx.refusals.account += 1;
      return json(429, { error: 'APIRateLimitExceeded', description: 'Number of allowed API requests per minute exceeded' }, {
        ...extraHeaders,
        'retry-after': String(budget.resets),
      });
    }
  }
  const reply = await answer(deps, found, req, url);
  return { ...reply, headers: { ...extraHeaders, ...reply.headers } };
}

/** The route's answer: 404 for no route, the auth refusal if any, a handler's HttpError, or 500 (logged). */
async function answer(deps: ServerDeps, found: ResolvedRoute | undefined, req: IncomingMessage, url: URL): Promise<Reply> {
  if (!found) return zendeskError.invalidEndpoint();
  const { route, params } = found;
  if (route.scope) {
    const access = route.scope.access ?? (req.method === 'GET' || req.method === 'HEAD' ? 'read' : 'write');
    const refused = deps.auth.check(req.headers.authorization, { ...route.scope, access });
    if (refused) return refused;
  }
  let parsed: Promise<Record<string, unknown>> | undefined;
  const ex: Exchange = {
    req,
    url,
    params,
    body: () => (parsed ??= readBody(req).then((raw) => parseBody(raw, req.headers['content-type']))),
  };
  try {
    return await route.handle(deps.ctx, ex);
  } catch (error) {
    if (error instanceof HttpError) return error.reply;
    deps.errors.push(error as Error);
    return json(500, { error: 'InternalError', description: String((error as Error).message) });
  }
}

/** The 'request' listener of the API server or the content server. */
export function requestHandler(deps: ServerDeps, role: Route['role']): (req: IncomingMessage, res: ServerResponse) => void {
  const { ctx, routes, faults, clock, log, errors } = deps;
  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', role === 'api' ? ctx.api : ctx.contentOrigin);
    const method = (req.method ?? 'GET').toUpperCase();
    const found = resolve(routes, role, method, url.pathname);
    const kind: RouteKind = found?.route.kind ?? 'unknown';
    const entry = log.record({
      at: isoSeconds(clock.now()),
      role,
      method,
      path: safePath(url),
      kind,
      status: 0,
      authorization: req.headers.authorization !== undefined,
    });
    const hit = faults.take({ method, target: req.url ?? '/', route: kind });
    void (async () => {
      if (hit) entry.fault = hit.fault.kind;
      if (await applyFaultBefore(hit?.fault, res)) {
        entry.status = hit?.fault.kind === 'status' ? hit.fault.status : 0;
        req.resume();
        return;
      }
      const reply = await dispatch(deps, role, found, req, url);
      const f = hit?.fault;
      entry.status = f?.kind === 'status' && f.when === 'after' ? f.status : f?.kind === 'reset' && f.when === 'after' ? 0 : reply.status;
      await deliver(req, res, reply, f);
    })().catch((error: unknown) => {
      errors.push(error as Error);
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  };
}
