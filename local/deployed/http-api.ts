import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { listenLocally } from '../runtime/local-server.js';
import type { JwtAuthorizerConfig, LocalJwtIssuer, VerifiedToken } from './jwt.js';
import type { InvocationOutcome } from './runtime-api.js';

/**
 * A local stand-in for an API Gateway HTTP API with Lambda proxy integrations (payload format 2.0): each request to a
 * route becomes the event API Gateway sends, handed to the integration's function as JSON, and the function's answer
 * becomes the HTTP response, as API Gateway maps it:
 *
 * - routes: `METHOD /path` or `ANY /path`, with path variables (`{id}`, one segment) and a greedy last variable
 *   (`{proxy+}`, one or more segments); an exact path wins over variables, variables over a greedy one, any of them
 *   over `$default`, and a route of the request's method over `ANY`;
 * - a route with a JWT authorizer (jwt.ts) runs only for a token the authorizer accepts: otherwise a 401
 *   {"message":"Unauthorized"} and no invocation; the verified claims are passed in requestContext.authorizer.jwt;
 * - event: version 2.0, routeKey, rawPath, rawQueryString, cookies (the Cookie header, split), headers lower-cased
 *   with repeated values joined by commas, queryStringParameters (repeated values joined by commas), pathParameters,
 *   requestContext (accountId, apiId, authorizer, domainName, http.method/path/protocol/sourceIp/userAgent,
 *   requestId, routeKey, stage, time, timeEpoch), and a non-empty body base64-encoded with `isBase64Encoded: true`;
 * - answer: `{statusCode, headers, body, isBase64Encoded}` as given; any other JSON value is a 200 with that JSON;
 *   a function error is a 500 `{"message":"Internal Server Error"}`; an unknown route a 404 `{"message":"Not Found"}`.
 */

export interface HttpApiRoute {
  /** `POST /webhooks/zendesk`, `ANY /x`, `GET /api/{proxy+}`, or `$default`. */
  routeKey: string;
  /** The route's JWT authorizer (AuthorizationType JWT); undefined for NONE. */
  jwt?: JwtAuthorizerConfig & { identitySource: string };
  invoke: (event: string) => Promise<InvocationOutcome>;
}

export interface HttpApiOptions {
  apiId: string;
  account: string;
  region: string;
  stage: string;
  routes: HttpApiRoute[];
  /** Verifies the tokens of routes with a JWT authorizer. */
  issuer?: LocalJwtIssuer;
}

export interface LocalHttpApi {
  url: string;
  close(): Promise<void>;
}

interface Matched {
  route: HttpApiRoute;
  pathParameters?: Record<string, string>;
}

/** How specific a route's path is: 3 no variables, 2 variables, 1 a greedy variable. */
const specificity = (path: string) => (/\{[^}]+\+\}/.test(path) ? 1 : /\{[^}]+\}/.test(path) ? 2 : 3);

function matchPath(routePath: string, path: string): Record<string, string> | undefined {
  const want = routePath.split('/');
  const got = path.split('/');
  const parameters: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const segment = want[i]!;
    const variable = /^\{([^}+]+)(\+)?\}$/.exec(segment);
    if (variable?.[2]) {
      const rest = got.slice(i).join('/');
      if (i !== want.length - 1 || !rest) return undefined;
      parameters[variable[1]!] = decodeURIComponent(rest);
      return parameters;
    }
    if (got[i] === undefined) return undefined;
    if (variable) {
      if (!got[i]) return undefined;
      parameters[variable[1]!] = decodeURIComponent(got[i]!);
    } else if (segment !== got[i]) return undefined;
  }
  return want.length === got.length ? parameters : undefined;
}

/** The route API Gateway selects for a request (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html). */
export function selectRoute(routes: HttpApiRoute[], method: string, path: string): Matched | undefined {
  const candidates: Array<Matched & { score: number }> = [];
  for (const route of routes) {
    if (route.routeKey === '$default') continue;
    const [routeMethod = '', routePath = ''] = route.routeKey.split(' ');
    if (routeMethod !== 'ANY' && routeMethod !== method) continue;
    const parameters = matchPath(routePath, path);
    if (!parameters) continue;
    const score = specificity(routePath) * 2 + (routeMethod === 'ANY' ? 0 : 1);
    candidates.push({ route, score, ...(Object.keys(parameters).length ? { pathParameters: parameters } : {}) });
  }
  const best = candidates.sort((a, b) => b.score - a.score)[0];
  if (best) return { route: best.route, ...(best.pathParameters ? { pathParameters: best.pathParameters } : {}) };
  const fallback = routes.find((r) => r.routeKey === '$default');
  return fallback ? { route: fallback } : undefined;
}

/** Repeated query parameters joined by commas, as API Gateway does; undefined without a query. */
function queryParameters(url: URL): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const [k, v] of url.searchParams) out[k] = out[k] === undefined ? v : `${out[k]},${v}`;
  return Object.keys(out).length ? out : undefined;
}

/** What else API Gateway knows of a request when it builds the event. */
export interface RequestFacts {
  pathParameters?: Record<string, string>;
  authorizer?: VerifiedToken;
}

/** The payload-2.0 event for one request. */
export function httpApiEvent(options: HttpApiOptions, route: HttpApiRoute, request: IncomingMessage, body: Buffer, facts: RequestFacts = {}): Record<string, unknown> {
  const url = new URL(request.url ?? '/', 'http://local');
  const headers: Record<string, string> = {};
  for (let i = 0; i < request.rawHeaders.length; i += 2) {
    const name = (request.rawHeaders[i] as string).toLowerCase();
    const value = request.rawHeaders[i + 1] as string;
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  const cookies = headers.cookie?.split(/;\s*/).filter(Boolean);
  delete headers.cookie;
  const domainName = `${options.apiId}.execute-api.${options.region}.amazonaws.com`;
  headers.host = domainName;
  const query = queryParameters(url);
  const now = new Date();
  return {
    version: '2.0',
    routeKey: route.routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    ...(cookies?.length ? { cookies } : {}),
    headers,
    ...(query ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: options.account,
      apiId: options.apiId,
      ...(facts.authorizer ? { authorizer: { jwt: { claims: facts.authorizer.claims, scopes: facts.authorizer.scopes.length ? facts.authorizer.scopes : null } } } : {}),
      domainName,
      domainPrefix: options.apiId,
      http: { method: request.method, path: url.pathname, protocol: `HTTP/${request.httpVersion}`, sourceIp: request.socket.remoteAddress ?? '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
      requestId: randomUUID(),
      routeKey: route.routeKey,
      stage: options.stage,
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(facts.pathParameters ? { pathParameters: facts.pathParameters } : {}),
    ...(body.length ? { body: body.toString('base64'), isBase64Encoded: true } : { isBase64Encoded: false }),
  };
}

function toResponse(outcome: InvocationOutcome): { status: number; headers: Record<string, string>; body: Buffer } {
  const error = { status: 500, headers: { 'content-type': 'application/json' }, body: Buffer.from('{"message":"Internal Server Error"}') };
  if (!outcome.ok) return error;
  let result: unknown;
  try {
    result = JSON.parse(outcome.payload);
  } catch {
    return error;
  }
  const shaped = result as { statusCode?: unknown; headers?: Record<string, string>; body?: unknown; isBase64Encoded?: unknown } | null;
  if (shaped && typeof shaped === 'object' && typeof shaped.statusCode === 'number') {
    const text = typeof shaped.body === 'string' ? shaped.body : '';
    return { status: shaped.statusCode, headers: { ...(shaped.headers ?? {}) }, body: shaped.isBase64Encoded === true ? Buffer.from(text, 'base64') : Buffer.from(text) };
  }
  return { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(outcome.payload) };
}

const json = (status: number, message: string) => ({ status, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify({ message })) });

/** The identity source's value: `$request.header.Authorization` and the like. */
function identityOf(request: IncomingMessage, source: string): string | undefined {
  const header = /^\$request\.header\.(.+)$/.exec(source)?.[1];
  if (!header) return undefined;
  const value = request.headers[header.toLowerCase()];
  return Array.isArray(value) ? value.join(',') : value;
}

async function answer(options: HttpApiOptions, request: IncomingMessage, body: Buffer): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
  const matched = selectRoute(options.routes, request.method ?? '', new URL(request.url ?? '/', 'http://local').pathname);
  if (!matched) return json(404, 'Not Found');
  const { route, pathParameters } = matched;
  let authorizer: VerifiedToken | undefined;
  if (route.jwt) {
    authorizer = options.issuer?.verify(identityOf(request, route.jwt.identitySource), route.jwt);
    if (!authorizer) return json(401, 'Unauthorized');
  }
  const event = httpApiEvent(options, route, request, body, { ...(pathParameters ? { pathParameters } : {}), ...(authorizer ? { authorizer } : {}) });
  return toResponse(await route.invoke(JSON.stringify(event)));
}

export async function startHttpApi(options: HttpApiOptions): Promise<LocalHttpApi> {
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      void answer(options, request, Buffer.concat(chunks)).then(({ status, headers, body }) => response.writeHead(status, headers).end(body));
    });
  });
  return listenLocally(server);
}
