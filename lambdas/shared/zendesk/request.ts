import type { KyInstance, Options } from 'ky';
import { InvalidInput, ZendeskRequestFailed } from '../errors.js';
import { isTicketId } from '../ids.js';
import { withAuthorization, type Authenticator } from './auth.js';
import { toVaultError, type RetrySettings, type Route } from './http.js';

/**
 * The one authenticated JSON request every API resource (tickets, comments, attachments, redaction) goes through,
 * built once per client, and the small path and response helpers they share.
 */

export interface ZendeskRequestDeps {
  /** ky instance for the API, based on the account origin. */
  http: KyInstance;
  auth: Authenticator;
  /** Origin of the Zendesk account (links.next must stay on it). */
  origin: string;
  retry: RetrySettings;
  maxInProcessRetryAfterSeconds: number;
}

export interface ZendeskRequest {
  origin: string;
  retry: RetrySettings;
  /** A 429/503 Retry-After up to this is waited in-process. */
  maxInProcessRetryAfterSeconds: number;
  /**
   * One authenticated JSON call with the final response's headers; every failure comes out as a vocabulary error
   * (or a route's own signal).
   */
  exchange<T>(route: Route, input: string | URL, init?: Options): Promise<{ body: T; headers: Headers }>;
  /** exchange() without the headers. */
  call<T>(route: Route, input: string | URL, init?: Options): Promise<T>;
}

export function createZendeskRequest(deps: ZendeskRequestDeps): ZendeskRequest {
  const { http: api, auth, maxInProcessRetryAfterSeconds: maxWait } = deps;

  async function exchange<T>(route: Route, input: string | URL, init: Options = {}): Promise<{ body: T; headers: Headers }> {
    try {
      return await withAuthorization(auth, async (authorization) => {
        const response = api(input, {
          ...init,
          headers: { ...(init.headers as Record<string, string> | undefined), authorization },
          context: { route: route.route },
        });
        const body = await response.json<T>();
        return { body, headers: (await response).headers };
      });
    } catch (error) {
      throw toVaultError(error, route, maxWait);
    }
  }

  async function call<T>(route: Route, input: string | URL, init: Options = {}): Promise<T> {
    return (await exchange<T>(route, input, init)).body;
  }

  return { origin: deps.origin, retry: deps.retry, maxInProcessRetryAfterSeconds: maxWait, exchange, call };
}

export function ticketPath(ticketId: string): string {
  if (!isTicketId(ticketId)) throw new InvalidInput('ticketId must be a ticket number (1-20 digits, no leading zero)');
  return `api/v2/tickets/${ticketId}`;
}

export function positiveId(name: string, id: number): number {
  if (!Number.isSafeInteger(id) || id <= 0) throw new InvalidInput(`${name} must be a positive integer`);
  return id;
}

export function unexpected(route: string, what: string): ZendeskRequestFailed {
  return new ZendeskRequestFailed(`${route}: unexpected response (${what})`, 200);
}
