import { RetentionDays } from 'aws-cdk-lib/aws-logs';

/**
 * Deployment settings, read from CDK context (`cdk.json` "context", or `-c key=value` on the command line).
 * Every key has a default here; cdk.json repeats the defaults so operators see them in one place, and
 * test/infra/config.test.ts keeps the two in step. Values given with `-c` arrive as strings, so numbers and
 * lists are parsed from strings too. All problems are reported at once, each naming its key.
 */

export type NotifyFormat = 'slack' | 'zapier';
export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

export interface VaultConfig {
  stackName: string;
  /** Origin of the Zendesk account, e.g. https://acme.zendesk.com (from zendeskUrl or zendeskSubdomain). */
  zendeskUrl: string;
  /** Hosts a content_url may redirect to: hostname patterns (`*.zdusercontent.com`) or https origins. */
  contentHosts: string[];
  tags: { request: string; processing: string; archived: string; failed: string };
  mapMaxConcurrency: number;
  notifyFormat: NotifyFormat;
  /**
   * 0 = Object Lock off; > 0 = Object Lock on, GOVERNANCE mode, this many days of default retention.
   * Decide before the first deploy: Object Lock cannot be turned off, and switching it on later changes the
   * bucket's ObjectLockEnabled property (review the change set: CloudFormation may replace the bucket).
   */
  objectLockDays: number;
  noncurrentVersionExpirationDays: number;
  alarmEmail: string | undefined;
  maxAttachmentMb: number;
  webhookTimestampToleranceSeconds: number;
  logRetentionDays: RetentionDays;
  logLevel: LogLevel;
  apiThrottleRateLimit: number;
  apiThrottleBurstLimit: number;
}

/** The subdomain cdk.json ships with: synth works out of the box, and the stack warns until it is replaced. */
export const PLACEHOLDER_SUBDOMAIN = 'example';

/** Context keys and their defaults. `zendeskSubdomain`/`zendeskUrl` have no default in code: one is required. */
export const CONTEXT_DEFAULTS = {
  stackName: 'AttachmentVault',
  tagRequest: 'vault_archive',
  tagProcessing: 'vault_processing',
  tagArchived: 'vault_archived',
  tagFailed: 'vault_failed',
  mapMaxConcurrency: 4,
  notifyFormat: 'slack',
  objectLockDays: 0,
  noncurrentVersionExpirationDays: 90,
  alarmEmail: '',
  contentHosts: '*.zdusercontent.com',
  maxAttachmentMb: 1024,
  webhookTimestampToleranceSeconds: 900,
  logRetentionDays: 90,
  logLevel: 'INFO',
  apiThrottleRateLimit: 10,
  apiThrottleBurstLimit: 20,
} as const;

export type ContextReader = (key: string) => unknown;

export class ContextError extends Error {
  override readonly name = 'ContextError';
}

const SUBDOMAIN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;
/** Zendesk tags contain no spaces; lower case keeps trigger conditions and our comparisons exact. */
const TAG = /^[a-z0-9_][a-z0-9_\-:./]{0,79}$/;
const HOST_PATTERN = /^(?:\*\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const EMAIL = /^[^\s@,]+@[^\s@,]+\.[^\s@,]+$/;
const LOG_LEVELS: readonly LogLevel[] = ['DEBUG', 'INFO', 'WARN', 'ERROR'];
const NOTIFY_FORMATS: readonly NotifyFormat[] = ['slack', 'zapier'];
const RETENTION_VALUES = Object.values(RetentionDays).filter((v): v is number => typeof v === 'number');

/** Reads and validates the whole configuration; throws one ContextError listing every invalid key. */
export function readVaultConfig(context: ContextReader): VaultConfig {
  const problems: string[] = [];
  const fail = (key: string, rule: string, value: unknown): undefined => {
    problems.push(`"${key}" ${rule} (got ${JSON.stringify(value)})`);
    return undefined;
  };

  const raw = (key: keyof typeof CONTEXT_DEFAULTS): unknown => {
    const value = context(key);
    return value === undefined || value === null ? CONTEXT_DEFAULTS[key] : value;
  };

  const text = (key: keyof typeof CONTEXT_DEFAULTS): string => {
    const value = raw(key);
    if (typeof value !== 'string' && typeof value !== 'number') {
      fail(key, 'must be a string', value);
      return String(CONTEXT_DEFAULTS[key]);
    }
    return String(value).trim();
  };

  const integer = (key: keyof typeof CONTEXT_DEFAULTS, min: number, max: number): number => {
    const value = raw(key);
    const parsed = typeof value === 'number' ? value : typeof value === 'string' && value.trim() ? Number(value) : NaN;
    if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
      fail(key, `must be an integer between ${min} and ${max}`, value);
      return CONTEXT_DEFAULTS[key] as number;
    }
    return parsed;
  };

  const matching = (key: keyof typeof CONTEXT_DEFAULTS, pattern: RegExp, rule: string): string => {
    const value = text(key);
    if (!pattern.test(value)) fail(key, rule, value);
    return value;
  };

  const oneOf = <T extends string>(key: keyof typeof CONTEXT_DEFAULTS, allowed: readonly T[], normalise: (s: string) => string): T => {
    const value = normalise(text(key));
    if (!(allowed as readonly string[]).includes(value)) {
      fail(key, `must be one of ${allowed.join(', ')}`, value);
      return CONTEXT_DEFAULTS[key] as T;
    }
    return value as T;
  };

  const zendeskUrl = readZendeskUrl(context, fail);

  const tagRule = 'must be a Zendesk tag: lower-case letters, digits and _ - : . / (1-80 characters, no spaces)';
  const tags = {
    request: matching('tagRequest', TAG, tagRule),
    processing: matching('tagProcessing', TAG, tagRule),
    archived: matching('tagArchived', TAG, tagRule),
    failed: matching('tagFailed', TAG, tagRule),
  };
  const tagValues = Object.values(tags);
  if (new Set(tagValues).size !== tagValues.length) {
    fail('tagRequest/tagProcessing/tagArchived/tagFailed', 'must be four different tags', tagValues);
  }

  const contentHosts = readList(raw('contentHosts'));
  if (contentHosts.length === 0) fail('contentHosts', 'must name at least one host', raw('contentHosts'));
  for (const host of contentHosts) {
    if (!HOST_PATTERN.test(host) && !isHttpsOrigin(host)) {
      fail('contentHosts', 'entries must be host names, `*.`-prefixed host names or https:// origins', host);
    }
  }

  const alarmEmail = text('alarmEmail');
  if (alarmEmail && !EMAIL.test(alarmEmail)) fail('alarmEmail', 'must be one e-mail address, or empty for none', alarmEmail);

  const logRetentionDays = integer('logRetentionDays', 1, 9999);
  if (!RETENTION_VALUES.includes(logRetentionDays)) {
    fail('logRetentionDays', `must be one of CloudWatch Logs' retention values (${RETENTION_VALUES.join(', ')})`, logRetentionDays);
  }

  const apiThrottleRateLimit = integer('apiThrottleRateLimit', 1, 10_000);
  const apiThrottleBurstLimit = integer('apiThrottleBurstLimit', 1, 5_000);

  const config: VaultConfig = {
    stackName: matching('stackName', STACK_NAME, 'must be a CloudFormation stack name (letters, digits, -; starts with a letter)'),
    zendeskUrl: zendeskUrl ?? '',
    contentHosts,
    tags,
    // Zendesk's rate limits are account-wide, so the Map stays narrow; 0 (unbounded) is not offered.
    mapMaxConcurrency: integer('mapMaxConcurrency', 1, 40),
    notifyFormat: oneOf('notifyFormat', NOTIFY_FORMATS, (s) => s.toLowerCase()),
    objectLockDays: integer('objectLockDays', 0, 36_500),
    noncurrentVersionExpirationDays: integer('noncurrentVersionExpirationDays', 1, 36_500),
    alarmEmail: alarmEmail || undefined,
    maxAttachmentMb: integer('maxAttachmentMb', 1, 5 * 1024),
    webhookTimestampToleranceSeconds: integer('webhookTimestampToleranceSeconds', 30, 86_400),
    logRetentionDays: logRetentionDays as RetentionDays,
    logLevel: oneOf('logLevel', LOG_LEVELS, (s) => s.toUpperCase()),
    apiThrottleRateLimit,
    apiThrottleBurstLimit,
  };

  if (problems.length > 0) {
    throw new ContextError(
      `Invalid attachment-vault context (set it in cdk.json "context" or with -c key=value):\n  - ${problems.join('\n  - ')}`,
    );
  }
  return config;
}

function readZendeskUrl(context: ContextReader, fail: (key: string, rule: string, value: unknown) => undefined): string | undefined {
  const subdomain = context('zendeskSubdomain');
  const url = context('zendeskUrl');
  const given = (v: unknown) => v !== undefined && v !== null && String(v).trim() !== '';
  // zendeskUrl wins: cdk.json ships a zendeskSubdomain, and `-c zendeskUrl=...` must override it.
  if (given(url)) {
    const value = String(url).trim().toLowerCase().replace(/\/+$/, '');
    if (!isHttpsOrigin(value)) return fail('zendeskUrl', 'must be an https:// origin without a path, e.g. https://support.acme.com', url);
    return new URL(value).origin;
  }
  if (given(subdomain)) {
    const value = String(subdomain).trim().toLowerCase();
    if (!SUBDOMAIN.test(value)) return fail('zendeskSubdomain', 'must be the subdomain of <subdomain>.zendesk.com, e.g. acme', subdomain);
    return `https://${value}.zendesk.com`;
  }
  return fail('zendeskSubdomain', 'or "zendeskUrl" is required, e.g. -c zendeskSubdomain=acme', subdomain);
}

function isHttpsOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && url.origin === value && HOST_PATTERN.test(url.hostname);
  } catch {
    return false;
  }
}

function readList(value: unknown): string[] {
  const items = Array.isArray(value) ? value.map(String) : typeof value === 'string' ? value.split(',') : [];
  return items.map((item) => item.trim().toLowerCase()).filter(Boolean);
}
