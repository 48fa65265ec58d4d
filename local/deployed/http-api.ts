import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { InvocationOutcome } from './runtime-api.js';

/**
 * A local stand-in for an API Gateway HTTP API with Lambda proxy integrations (payload format 2.0): each request to a
 * route becomes the event API Gateway sends, handed to the integration's function as JSON, and the function's answer
 * becomes the HTTP response, as API Gateway maps it:
 *
 * - event: version 2.0, routeKey, rawPath, rawQueryString, headers lower-cased with repeated values joined by commas,
 *   requestContext (accountId, apiId, domainName, http.method/path/protocol/sourceIp/userAgent, requestId, stage,
 *   time, timeEpoch), and the body base64-encoded with `isBase64Encoded: true`;
 * - answer: `{statusCode, headers, body, isBase64Encoded}` as given; any other JSON value is a 200 with that JSON;
 *   a function error is a 500 `{"message":"Internal Server Error"}`; an unknown route a 404 `{"message":"Not Found"}`.
 */

export interface HttpApiRoute {
  /** `POST /webhooks/zendesk`, `ANY /x`, or `$default`. */
  routeKey: string;
  invoke: (event: string) => Promise<InvocationOutcome>;
}

export interface HttpApiOptions {
  apiId: string;
  account: string;
  region: string;
  stage: string;
  routes: HttpApiRoute[];
}

export interface LocalHttpApi {
  url: string;
  close(): Promise<void>;
}

function matches(routeKey: string, method: string, path: string): boolean {
  if (routeKey === '$default') return true;
  const [routeMethod, routePath] = routeKey.split(' ');
  return (routeMethod === 'ANY' || routeMethod === method) && routePath === path;
}

/** The payload-2.0 event for one request. */
export function httpApiEvent(options: HttpApiOptions, route: HttpApiRoute, request: IncomingMessage, body: Buffer): Record<string, unknown> {
  const url = new URL(request.url ?? '/', 'http://local');
  const headers: Record<string, string> = {};
  for (let i = 0; i < request.rawHeaders.length; i += 2) {
    const name = (request.rawHeaders[i] as string).toLowerCase();
    const value = request.rawHeaders[i + 1] as string;
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  const domainName = `${options.apiId}.execute-api.${options.region}.amazonaws.com`;
  headers.host = domainName;
  const now = new Date();
  return {
    version: '2.0',
    routeKey: route.routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    headers,
    requestContext: {
      accountId: options.account,
      apiId: options.apiId,
      domainName,
      domainPrefix: options.apiId,
      http: { method: request.method, path: url.pathname, protocol: `HTTP/${request.httpVersion}`, sourceIp: request.socket.remoteAddress ?? '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
      requestId: randomUUID(),
      routeKey: route.routeKey,
      stage: options.stage,
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: body.toString('base64'),
    isBase64Encoded: true,
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

export async function startHttpApi(options: HttpApiOptions): Promise<LocalHttpApi> {
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      const path = new URL(request.url ?? '/', 'http://local').pathname;
      const route =
        options.routes.find((r) => r.routeKey !== '$default' && matches(r.routeKey, request.method ?? '', path)) ??
        options.routes.find((r) => r.routeKey === '$default');
      if (!route) {
        response.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"Not Found"}');
        return;
      }
      void route
        .invoke(JSON.stringify(httpApiEvent(options, route, request, Buffer.concat(chunks))))
        .then((outcome) => {
          const { status, headers, body } = toResponse(outcome);
          response.writeHead(status, headers).end(body);
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
