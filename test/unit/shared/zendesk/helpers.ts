import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createZendeskClient, type ZendeskClientOptions } from '../../../../lambdas/shared/zendesk/client.js';
import type { ZendeskApi, ZendeskCredentials } from '../../../../lambdas/shared/zendesk/types.js';
import { logger } from '../../../../lambdas/shared/logger.js';

logger.setLogLevel('SILENT');

/** One request as the test server saw it. */
export interface Seen {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
  /** Parsed JSON body, when there was one. */
  json: unknown;
}

export type Handler = (request: Seen, response: ServerResponse, index: number) => void | Promise<void>;

export interface TestServer {
  origin: string;
  requests: Seen[];
  /** Requests whose path starts with the given prefix. */
  hits(prefix: string): Seen[];
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 with an ephemeral port; the handler decides every answer. */
export async function startServer(handler: Handler): Promise<TestServer> {
  const requests: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://placeholder');
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = body ? JSON.parse(body) : undefined;
      } catch {
        json = undefined;
      }
      const seen: Seen = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body, json };
      requests.push(seen);
      Promise.resolve(handler(seen, res, requests.length - 1)).catch((error: unknown) => {
        res.statusCode = 599;
        res.end(String(error));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    hits: (prefix) => requests.filter((r) => r.path.startsWith(prefix)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

export const TOKEN_CREDENTIALS: ZendeskCredentials = { kind: 'api_token', email: 'agent@example.com', apiToken: 'tok-123' };
export const OAUTH_CREDENTIALS: ZendeskCredentials = { kind: 'oauth', clientId: 'vault-client', clientSecret: 'shh-secret' };
export const BASIC_HEADER = `Basic ${Buffer.from('agent@example.com/token:tok-123').toString('base64')}`;

/** A client with millisecond retry delays. */
export function testClient(origin: string, overrides: Partial<ZendeskClientOptions> = {}): ZendeskApi {
  return createZendeskClient({
    baseUrl: origin,
    credentials: TOKEN_CREDENTIALS,
    contentHosts: ['*.zdusercontent.com'],
    retry: { limit: 3, baseDelayMs: 1, maxDelayMs: 5, conflictRetries: 5, conflictDelayMs: 1 },
    timeoutMs: 5_000,
    ...overrides,
  });
}

/** A recorded Zendesk exchange from test/fixtures/zendesk (see test/fixtures/zendesk/README.md). */
export interface Recording<T = unknown> {
  request: { method: string; uri: string; body: unknown };
  response: { status: number; headers: Record<string, string>; body: T };
}

export function recording<T = unknown>(name: string): Recording<T> {
  const file = new URL(`../../../fixtures/zendesk/${name}`, import.meta.url);
  return JSON.parse(readFileSync(file, 'utf8')) as Recording<T>;
}

export function ticket(id: number, tags: string[], updatedAt = '2026-08-17T07:34:48Z', status = 'open') {
  return { ticket: { id, status, updated_at: updatedAt, tags, subject: 'Example' } };
}

/** Captures the rejection of a promise so a test can assert on its class and fields. */
export async function failure(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected the call to fail, but it succeeded');
}
