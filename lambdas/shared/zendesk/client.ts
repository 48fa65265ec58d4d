import type { KyInstance } from 'ky';
import type { RequestBudget } from '../request-budget.js';
import { createAttachments } from './attachments.js';
import { createAuthenticator, type Authenticator } from './auth.js';
import { createComments } from './comments.js';
import { openDownload } from './download.js';
import { createHostMatcher, zendeskOrigin } from './hosts.js';
import { createHttp, DEFAULT_RETRY, type RetrySettings } from './http.js';
import { createRedaction } from './redaction.js';
import { createZendeskRequest } from './request.js';
import { createSearch } from './search.js';
import { createTickets } from './tickets.js';
import type { ZendeskApi, ZendeskCredentials } from './types.js';

export { applyTagChange } from './tickets.js';

export interface ZendeskClientOptions {
  /** Origin of the Zendesk account (zendeskSettings().baseUrl); any path is ignored. */
  baseUrl: string;
  credentials: ZendeskCredentials;
  /** Hosts a content_url may redirect to (see hosts.ts). */
  contentHosts: string[];
  /** Retry limits and delays; tests shrink the delays to ~1 ms. */
  retry?: Partial<RetrySettings>;
  /** A 429 (or 503) Retry-After up to this is waited in-process; a longer one throws ZendeskRateLimited. Default 10. */
  maxInProcessRetryAfterSeconds?: number;
  /** Per-attempt wait for response headers. Default 15 s. Download bodies have no timeout (use the signal). */
  timeoutMs?: number;
  fetch?: typeof fetch;
  userAgent?: string;
  /** Clock for OAuth token expiry (tests). */
  now?: () => number;
  /** The shared request budget (request-budget.ts) every API request takes a token from; none = unbudgeted. */
  budget?: RequestBudget;
}

export const DEFAULT_USER_AGENT = 'attachment-vault/0.1';

/**
 * The client: one authenticated request function (request.ts) shared by one module per resource (tickets.ts,
 * comments.ts, attachments.ts, redaction.ts, search.ts), plus downloads (download.ts).
 */
export function createZendeskClient(options: ZendeskClientOptions): ZendeskApi {
  const origin = zendeskOrigin(options.baseUrl);
  const isContentHost = createHostMatcher(options.contentHosts);
  const retry: RetrySettings = { ...DEFAULT_RETRY, ...options.retry };
  const maxWait = options.maxInProcessRetryAfterSeconds ?? 10;
  const settings = {
    retry,
    maxInProcessRetryAfterSeconds: maxWait,
    timeoutMs: options.timeoutMs ?? 15_000,
    userAgent: options.userAgent ?? DEFAULT_USER_AGENT,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  };
  const api: KyInstance = createHttp(settings, 'api', `${origin}/`, options.budget);
  const downloads: KyInstance = createHttp(settings, 'download');
  const auth: Authenticator = createAuthenticator(options.credentials, {
    http: api,
    now: options.now ?? Date.now,
    maxInProcessRetryAfterSeconds: maxWait,
  });

  const request = createZendeskRequest({ http: api, auth, origin, retry, maxInProcessRetryAfterSeconds: maxWait });
  const { getTicket, updateTags } = createTickets(request);
  const { listComments } = createComments(request);
  const { getAttachment } = createAttachments(request);
  const { redactCommentAttachments } = createRedaction(request, getTicket);
  const { exportSearchTickets } = createSearch(request);

  return {
    getTicket,
    listComments,
    getAttachment,
    updateTags,
    redactCommentAttachments,
    exportSearchTickets,
    download: (contentUrl, downloadOptions) =>
      openDownload(
        { http: downloads, auth, zendeskOrigin: origin, isContentHost, maxInProcessRetryAfterSeconds: maxWait },
        contentUrl,
        downloadOptions?.signal,
      ),
  };
}
