import type { KyInstance } from 'ky';
import { AttachmentGone, HostNotAllowed, MalwareBlocked, ZendeskAuthFailed, ZendeskRequestFailed } from '../errors.js';
import { withAuthorization, type Authenticator } from './auth.js';
import { errorBody, toVaultError, type Route } from './http.js';
import { isOnOrigin, type HostMatcher } from './hosts.js';
import type { Download } from './types.js';

/**
 * Opening a content_url (docs/zendesk.md#downloads-and-redirects):
 * 1. the URL must be on the Zendesk origin, else HostNotAllowed before any request;
 * 2. GET it with credentials and redirect 'manual';
 * 3. on 301/302/303/307/308 the Location (resolved against the URL) must be an allowed content host, else
 *    HostNotAllowed; it is fetched with NO credential header, redirect 'manual' again; at most MAX_REDIRECTS;
 * 4. only a 2xx is returned, with its body as a stream (never read here).
 * Each hop has ky's retries (429/5xx/network); the headers of each hop are bounded by the client's timeout,
 * the body only by the caller's signal.
 */

export const MAX_REDIRECTS = 3;

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * The malware rule (the exact Zendesk answer is unconfirmed, docs/zendesk.md#downloads-and-redirects, docs/zendesk.md#unconfirmed-behaviour): a 403 whose body mentions
 * "malware", case-insensitively. That covers the OpenAPI description's `{"error":"MalwareDetected","description":"This
 * attachment contains malware ..."}` on any hop, and a sandbox answering 403 with a plain-text or differently
 * shaped body that names malware. Any other 403 is not treated as malware.
 */
export function isMalwareRefusal(status: number, data: unknown): boolean {
  if (status !== 403 || data === undefined || data === null) return false;
  const body = errorBody(data);
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return /malware/i.test(text);
}

export interface DownloadDeps {
  /** ky instance created for downloads (redirect manual, throws only for >= 400). */
  http: KyInstance;
  auth: Authenticator;
  zendeskOrigin: string;
  isContentHost: HostMatcher;
  maxInProcessRetryAfterSeconds: number;
}

function hopRoute(hop: number): Route {
  const credentialed = hop === 0;
  const route = credentialed ? 'download' : 'download (content host)';
  return {
    route,
    subject: credentialed ? '' : `hop ${hop}`,
    statuses: {
      404: (message) => new AttachmentGone(message),
      410: (message) => new AttachmentGone(message),
      403: (message, data) => {
        if (isMalwareRefusal(403, data)) return new MalwareBlocked(`${route}: Zendesk refused a malware-flagged file (403)`);
        // With our credentials, a 403 refuses them (ZendeskAuthFailed). Without credentials it is not about ours:
        // an expired or refused pre-signed URL, a per-file failure.
        return credentialed ? new ZendeskAuthFailed(message) : new ZendeskRequestFailed(message, 403);
      },
      ...(credentialed ? {} : { 401: (message: string) => new ZendeskRequestFailed(message, 401) }),
    },
  };
}

export async function openDownload(deps: DownloadDeps, contentUrl: string, signal?: AbortSignal): Promise<Download> {
  let url: URL;
  try {
    url = new URL(contentUrl);
  } catch {
    throw new HostNotAllowed('download: content_url is not a valid URL');
  }
  if (!isOnOrigin(url, deps.zendeskOrigin)) {
    throw new HostNotAllowed('download: content_url is not on the Zendesk origin');
  }

  const get = (target: URL, authorization?: string) =>
    deps.http.get(target, {
      ...(authorization ? { headers: { authorization } } : {}),
      ...(signal ? { signal } : {}),
      context: { route: 'download' },
    });

  let response: Response;
  try {
    response = await withAuthorization(deps.auth, (authorization) => get(url, authorization));
  } catch (error) {
    throw mapHop(error, 0, deps);
  }

  for (let hop = 1; REDIRECTS.has(response.status); hop++) {
    const status = response.status;
    const location = response.headers.get('location');
    await response.body?.cancel().catch(() => undefined);
    if (hop > MAX_REDIRECTS) throw new ZendeskRequestFailed(`download: more than ${MAX_REDIRECTS} redirects`, status);
    if (!location) throw new ZendeskRequestFailed(`download: redirect ${hop} has no Location`, status);
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      throw new HostNotAllowed(`download: redirect ${hop} has an invalid Location`);
    }
    if (!deps.isContentHost(next)) {
      throw new HostNotAllowed(`download: redirect ${hop} leaves the allowed content hosts`);
    }
    url = next;
    try {
      response = await get(url); // no Authorization, no credential of any kind
    } catch (error) {
      throw mapHop(error, hop, deps);
    }
  }

  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw new ZendeskRequestFailed(`download: unexpected status ${response.status}`, response.status);
  }
  const length = Number(response.headers.get('content-length'));
  const contentType = response.headers.get('content-type');
  return {
    body: response.body ?? new ReadableStream<Uint8Array>({ start: (controller) => controller.close() }),
    ...(response.headers.has('content-length') && Number.isSafeInteger(length) && length >= 0 ? { contentLength: length } : {}),
    ...(contentType ? { contentType } : {}),
  };
}

function mapHop(error: unknown, hop: number, deps: DownloadDeps): Error {
  return toVaultError(error, hopRoute(hop), deps.maxInProcessRetryAfterSeconds);
}
