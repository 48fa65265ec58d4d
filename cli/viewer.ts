import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { handleViewerRequest, type ViewerIdentity } from '../lambdas/viewer/api.js';
import type { LocalArchive } from '../local/runtime/archive.js';
import { localActor } from './archive.js';
import { printJson, UsageError } from './output.js';

/**
 * `attachment-vault viewer [--port 8788]`: the deployed viewer's page and API on 127.0.0.1, against the local archive
 * (index, audit trail and S3 under ATTACHMENT_VAULT_DATA_DIR; links served by the local link gate). Sign-in is a
 * stand-in, marked as such on every screen: a name, no password, a random session token kept in this process's
 * memory. Whoever signs in here is a reader.
 */

const SIGN_IN_PATH = '/local-sign-in';
const MAX_BODY = 16 * 1024;

function signInPage(defaultName: string): string {
  const name = defaultName.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Local sign-in stand-in</title><link rel="stylesheet" href="viewer.css"></head><body>
<header><h1>attachment-vault archive</h1></header>
<p class="local-banner" role="note"><strong>Local sign-in stand-in.</strong> No password and no identity provider: this only names who is looking, for the audit trail of this machine's sandbox archive. The deployed viewer signs in with Cognito or your OIDC provider.</p>
<main id="main"><section aria-labelledby="t"><h2 id="t">Who is looking?</h2>
<form method="post" action="local-sign-in"><label for="name">Your name</label> <input id="name" name="name" value="${name}" required maxlength="100" autocomplete="username">
<button type="submit">Continue</button></form></section></main></body></html>`;
}

async function readBody(request: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of request) {
    body += (chunk as Buffer).toString('utf8');
    if (body.length > MAX_BODY) throw new UsageError('body too large');
  }
  return body;
}

export interface LocalViewer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

function send(response: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  response.writeHead(status, headers).end(body);
}

/** The local sign-in stand-in's two routes; true when it answered. */
async function signIn(request: IncomingMessage, response: ServerResponse, path: string, sessions: Map<string, string>): Promise<boolean> {
  if (path !== SIGN_IN_PATH) return false;
  if (request.method === 'GET') {
    send(response, 200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-security-policy': "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'" }, signInPage(localActor()));
    return true;
  }
  const name = new URLSearchParams(await readBody(request)).get('name')?.trim().slice(0, 100);
  if (!name) {
    send(response, 303, { location: SIGN_IN_PATH.slice(1) }, '');
    return true;
  }
  const token = randomBytes(24).toString('base64url');
  sessions.set(token, name);
  send(response, 303, { location: `./?local_token=${token}`, 'cache-control': 'no-store' }, '');
  return true;
}

export async function startLocalViewer(archive: LocalArchive, options: { port: number; host?: string }): Promise<LocalViewer> {
  const sessions = new Map<string, string>();
  const deps = { ...archive, page: { mode: 'local' as const }, linkOrigins: [archive.linkOrigin], authOrigins: [] };
  const server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://viewer');
      if (await signIn(request, response, url.pathname, sessions)) return;
      const token = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
      const actor = token ? sessions.get(token) : undefined;
      const identity: ViewerIdentity | undefined = actor ? { actor, reader: true } : undefined;
      const body = request.method === 'POST' ? await readBody(request) : undefined;
      const result = await handleViewerRequest(deps, { method: request.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), ...(body !== undefined ? { body } : {}) }, identity);
      send(response, result.statusCode, result.headers, result.body);
    })().catch(() => {
      if (!response.headersSent) send(response, 500, { 'content-type': 'application/json' }, '{"message":"internal error"}');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
  return {
    server,
    url: `http://127.0.0.1:${port}/`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export async function viewerCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { port: { type: 'string', default: '8788' } }, strict: true });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be 0-65535');
  const { openLocalArchive } = await import('../local/runtime/archive.js');
  const archive = await openLocalArchive();
  try {
    const viewer = await startLocalViewer(archive, { port });
    printJson({ listening: viewer.url, local: true });
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    await viewer.close();
  } finally {
    await archive.close();
  }
  return 0;
}
