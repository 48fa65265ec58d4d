import type { SandboxZendesk } from '../../../local/sandbox/zendesk.js';

/** Helpers for the sandbox specs: plain fetch over real HTTP. */

export function basicAuth(sandbox: SandboxZendesk): string {
  const { email, apiToken } = sandbox.credentials;
  return `Basic ${Buffer.from(`${email}/token:${apiToken}`).toString('base64')}`;
}

export interface CallResult<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

/** One API call with Basic credentials unless `authorization` says otherwise (null: none). */
export async function call<T = Record<string, unknown>>(
  sandbox: SandboxZendesk,
  method: string,
  path: string,
  options: { body?: unknown; authorization?: string | null } = {},
): Promise<CallResult<T>> {
  const headers: Record<string, string> = {};
  const authorization = options.authorization === undefined ? basicAuth(sandbox) : options.authorization;
  if (authorization !== null) headers.authorization = authorization;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path.startsWith('http') ? path : `${sandbox.url}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    redirect: 'manual',
  });
  const text = await response.text();
  let body: unknown = text;
  if (response.headers.get('content-type')?.includes('json') && text) body = JSON.parse(text);
  return { status: response.status, headers: response.headers, body: body as T };
}

/** Follows a content_url the way the project's client must: credentials on the first hop only. */
export async function downloadBytes(sandbox: SandboxZendesk, contentUrl: string): Promise<Buffer> {
  const first = await fetch(contentUrl, { headers: { authorization: basicAuth(sandbox) }, redirect: 'manual' });
  if (first.status !== 302) throw new Error(`expected 302, got ${first.status}`);
  const second = await fetch(first.headers.get('location') as string);
  if (second.status !== 200) throw new Error(`expected 200, got ${second.status}`);
  return Buffer.from(await second.arrayBuffer());
}

export interface ListedAttachment {
  id: number;
  file_name: string;
  content_url: string;
  size: number;
  inline: boolean;
}

export interface ListedComment {
  id: number;
  attachments: ListedAttachment[];
}
