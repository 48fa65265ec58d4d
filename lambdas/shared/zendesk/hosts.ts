import { ConfigurationError } from '../errors.js';

/**
 * Which hosts a content_url may redirect to (ZENDESK_CONTENT_HOSTS). Pure: no I/O, unit tested on its own.
 *
 * An entry is either
 * - a hostname pattern, `files.example.com` or `*.zdusercontent.com`: https only, default port only; `*.` stands
 *   for exactly one DNS label (as the contract's `^https://[a-z0-9-]+\.zdusercontent\.com/`), and needs at least
 *   two labels after it (`*.com` is refused as a configuration error);
 * - a full origin, `http://localhost:8081`: matches exactly that scheme, host and port (how sandboxes run).
 * URLs carrying user info (`https://user:pass@host/`) never match.
 */
export type HostMatcher = (url: URL) => boolean;

type Rule =
  | { kind: 'origin'; origin: string }
  | { kind: 'exact'; hostname: string }
  | { kind: 'wildcard'; suffix: string };

const LABEL = '[a-z0-9](?:[a-z0-9-]*[a-z0-9])?';
const HOSTNAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);
const SINGLE_LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

function parseEntry(raw: string): Rule {
  const entry = raw.trim().toLowerCase();
  const invalid = () => new ConfigurationError(`ZENDESK_CONTENT_HOSTS has an invalid entry: ${JSON.stringify(raw)}`);
  if (entry.includes('://')) {
    let url: URL;
    try {
      url = new URL(entry);
    } catch {
      throw invalid();
    }
    const bare = url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password;
    if ((url.protocol !== 'https:' && url.protocol !== 'http:') || !bare) throw invalid();
    return { kind: 'origin', origin: url.origin };
  }
  if (entry.startsWith('*.')) {
    const suffix = entry.slice(2);
    if (!HOSTNAME.test(suffix) || !suffix.includes('.')) throw invalid();
    return { kind: 'wildcard', suffix };
  }
  if (!HOSTNAME.test(entry)) throw invalid();
  return { kind: 'exact', hostname: entry };
}

function matches(rule: Rule, url: URL): boolean {
  if (rule.kind === 'origin') return url.origin === rule.origin;
  // Hostname patterns: https on the default port only.
  if (url.protocol !== 'https:' || url.port !== '') return false;
  if (rule.kind === 'exact') return url.hostname === rule.hostname;
  const tail = `.${rule.suffix}`;
  return url.hostname.endsWith(tail) && SINGLE_LABEL.test(url.hostname.slice(0, -tail.length));
}

/** Builds the matcher once; throws ConfigurationError for an invalid entry or an empty list. */
export function createHostMatcher(entries: readonly string[]): HostMatcher {
  const rules = entries.map((e) => e.trim()).filter(Boolean).map(parseEntry);
  if (rules.length === 0) throw new ConfigurationError('ZENDESK_CONTENT_HOSTS allows no host');
  return (url) => !url.username && !url.password && rules.some((rule) => matches(rule, url));
}

/** One-shot form of createHostMatcher, for callers that check a single URL. */
export function isAllowedContentHost(url: string | URL, entries: readonly string[]): boolean {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return false;
  }
  return createHostMatcher(entries)(parsed);
}

/** True when `url` is on exactly `origin` (scheme, host and port) and carries no user info. */
export function isOnOrigin(url: URL, origin: string): boolean {
  return url.origin === origin && !url.username && !url.password;
}

/** The origin of the configured Zendesk base URL: credentials go there and nowhere else. */
export function zendeskOrigin(baseUrl: string): string {
  let origin: string;
  try {
    origin = new URL(baseUrl).origin;
  } catch {
    throw new ConfigurationError('Zendesk baseUrl is not a valid URL');
  }
  if (!/^https?:\/\//.test(origin)) throw new ConfigurationError('Zendesk baseUrl must be an http(s) URL');
  return origin;
}
