import type { ArchiveIndex } from '../shared/archive-index.js';
import type { AuditTrail } from '../shared/archive-audit.js';
import { VaultError } from '../shared/errors.js';
import { ticketIdOf } from '../shared/ids.js';
import { isRecord } from '../shared/step.js';
import { listFiles, openArchivedFile, type SignLink } from './open.js';
import { pageHtml, PAGE_CSS, type PageConfig } from './page.js';
import { PAGE_SCRIPT } from './script.js';

/**
 * The viewer's routes, whoever serves them (the Lambda behind API Gateway, or the local server): the page and its two
 * assets without sign-in, and the API for a signed-in reader of the archive.
 *
 * | Route              | Answer                                                                   |
 * |--------------------|--------------------------------------------------------------------------|
 * | GET /              | the page (HTML), with a Content-Security-Policy allowing only itself and the link origin |
 * | GET /viewer.js|css | the page's script and stylesheet                                         |
 * | GET /api/me        | `{actor}`                                                                |
 * | GET /api/files     | `?ticket=` or `?requester=`: `{files}` as `archive list` prints them     |
 * | POST /api/open     | `{attachmentId, reason, action: "view"|"open"}`: audited, `{url, expiresAt}` |
 * | GET /api/audit     | `?ticket=`: `{entries}` of that ticket                                   |
 * API answers are JSON and never cached; 401 without a person, 403 for one outside the readers' group.
 */

export interface ViewerRequest {
  method: string;
  path: string;
  query: Record<string, string | undefined>;
  body?: string;
}

/** Who asks: undefined when nobody signed in (or the token was refused before reaching here). */
export interface ViewerIdentity {
  actor: string;
  /** Whether the person is in the group that may read the archive. */
  reader: boolean;
}

export interface ViewerResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export interface ViewerDeps {
  index: Pick<ArchiveIndex, 'get' | 'byTicket' | 'byRequester' | 'archivedBetween'>;
  audit: AuditTrail;
  sign: SignLink;
  page: PageConfig;
  /** Origins the page may load previews from (the bucket's, or the local link gate). */
  linkOrigins: string[];
  /** Origins the page's script talks to for sign-in (the identity provider). */
  authOrigins: string[];
  /** Logged per request: who, which route, the status (never a file name or a link). */
  log?: (message: string, extra: Record<string, unknown>) => void;
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
};

export function contentSecurityPolicy(deps: Pick<ViewerDeps, 'linkOrigins' | 'authOrigins'>): string {
  const links = deps.linkOrigins.join(' ');
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' ${links}`.trim(),
    `frame-src ${links || "'none'"}`,
    `connect-src 'self' ${deps.authOrigins.join(' ')}`.trim(),
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function json(statusCode: number, body: unknown): ViewerResponse {
  return { statusCode, headers: { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(body) };
}

function asset(deps: ViewerDeps, path: string): ViewerResponse | undefined {
  const type = (t: string, body: string, extra: Record<string, string> = {}) => ({ statusCode: 200, headers: { ...SECURITY_HEADERS, 'content-type': t, ...extra }, body });
  if (path === '/' || path === '/index.html') return type('text/html; charset=utf-8', pageHtml(deps.page), { 'content-security-policy': contentSecurityPolicy(deps) });
  if (path === '/viewer.js') return type('text/javascript; charset=utf-8', PAGE_SCRIPT);
  if (path === '/viewer.css') return type('text/css; charset=utf-8', PAGE_CSS);
  if (path === '/favicon.ico') return { statusCode: 204, headers: { ...SECURITY_HEADERS }, body: '' };
  return undefined;
}

function parseBody(body: string | undefined): Record<string, unknown> {
  try {
    const parsed = JSON.parse(body ?? '') as unknown;
    return isRecord(parsed) ? parsed : {};
  } catch {
    return {};
  }
}

async function apiRoute(deps: ViewerDeps, request: ViewerRequest, identity: ViewerIdentity): Promise<ViewerResponse> {
  const route = `${request.method} ${request.path}`;
  if (route === 'GET /api/me') return json(200, { actor: identity.actor });
  if (route === 'GET /api/files') {
    const ticketId = ticketIdOf(request.query.ticket);
    const requesterId = ticketIdOf(request.query.requester);
    if (!ticketId === !requesterId) return json(400, { message: 'search by one ticket ID or one requester ID' });
    return json(200, { files: await listFiles(deps.index, ticketId ? { ticketId } : { requesterId: requesterId! }) });
  }
  if (route === 'POST /api/open') {
    const body = parseBody(request.body);
    const action = body.action === 'view' ? 'view' : body.action === 'open' ? 'open' : undefined;
    if (!action) return json(400, { message: 'action must be "view" or "open"' });
    const link = await openArchivedFile(deps, { attachmentId: String(body.attachmentId ?? ''), reason: String(body.reason ?? ''), actor: identity.actor, action });
    return json(200, link);
  }
  if (route === 'GET /api/audit') {
    const ticketId = ticketIdOf(request.query.ticket);
    if (!ticketId) return json(400, { message: 'the access log is read per ticket: ?ticket=<id>' });
    return json(200, { entries: await deps.audit.query({ ticketId }) });
  }
  return json(404, { message: 'not found' });
}

/** Known refusals become 4xx with their message; anything else is a 500 without details. */
function failure(error: unknown): ViewerResponse {
  if (error instanceof VaultError) {
    const status = { InvalidInput: 400, FileNotArchived: 404, ViewerAccessDenied: 403 }[error.name as string] ?? (error.retryable ? 503 : 500);
    return json(status, { message: status < 500 ? error.message : 'the archive is unavailable; try again', error: error.name });
  }
  return json(500, { message: 'internal error' });
}

export async function handleViewerRequest(deps: ViewerDeps, request: ViewerRequest, identity: ViewerIdentity | undefined): Promise<ViewerResponse> {
  const page = request.method === 'GET' ? asset(deps, request.path) : undefined;
  if (page) return page;
  if (!request.path.startsWith('/api/')) return json(404, { message: 'not found' });
  if (!identity) return json(401, { message: 'sign in first' });
  if (!identity.reader) {
    deps.log?.('viewer refused', { actor: identity.actor, route: `${request.method} ${request.path}`, status: 403 });
    return json(403, { message: 'you are not in the group that may read the archive' });
  }
  let response: ViewerResponse;
  try {
    response = await apiRoute(deps, request, identity);
  } catch (error) {
    response = failure(error);
  }
  deps.log?.('viewer request', { actor: identity.actor, route: `${request.method} ${request.path}`, status: response.statusCode });
  return response;
}
