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
  /** Tickets of up to this many files copy in the inline Map with their lists in the state (COPY_INLINE_MAX_FILES). */
  copyInlineMaxFiles: number;
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
  /** 0 = keep forever; > 0 = archived objects (every version) and their index items expire after this many days. */
  retentionDays: number;
  viewer: ViewerConfig;
  /** ZENDESK_REQUESTS_PER_MINUTE of every function; undefined = the limit Zendesk reports (zendeskRequestsPerMinute 0). */
  zendeskRequestsPerMinute: number | undefined;
  /** BACKFILL_SHARE: the most of the request budget the backfill may use (0.05-1). */
  backfillShare: number;
  /** Tickets the backfill's Distributed Map runs at once unless `backfill start --max-concurrency` says otherwise. */
  backfillMaxConcurrency: number;
}

/** Who signs in to the viewer: the stack's own Cognito user pool, or the team's OIDC provider. */
export interface ViewerConfig {
  /** Unset: the stack creates a Cognito user pool (and its hosted sign-in domain). */
  oidc?: { issuer: string; audience: string };
  /** The group whose members may read the archive (default vault-readers). */
  group: string;
  /** The claim that lists a person's groups: `cognito:groups` for the user pool, `groups` for OIDC unless set. */
  groupsClaim: string;
  /** The Cognito hosted domain's prefix (default `<stackName>-viewer-<account>`, lower case). */
  cognitoDomainPrefix?: string;
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
  copyInlineMaxFiles: 200,
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
  retentionDays: 0,
  viewerOidcIssuer: '',
  viewerOidcAudience: '',
  viewerGroup: 'vault-readers',
  viewerGroupsClaim: '',
  viewerCognitoDomainPrefix: '',
  zendeskRequestsPerMinute: 0,
  backfillShare: 0.5,
  backfillMaxConcurrency: 10,
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

type ContextKey = keyof typeof CONTEXT_DEFAULTS;

/** Reads context values with their defaults, and collects every problem (each names its key) instead of throwing. */
class ContextValues {
  readonly problems: string[] = [];

  constructor(private readonly context: ContextReader) {}

  readonly fail = (key: string, rule: string, value: unknown): undefined => {
    this.problems.push(`"${key}" ${rule} (got ${JSON.stringify(value)})`);
    return undefined;
  };

  raw(key: ContextKey): unknown {
    const value = this.context(key);
    return value === undefined || value === null ? CONTEXT_DEFAULTS[key] : value;
  }

  text(key: ContextKey): string {
    const value = this.raw(key);
    if (typeof value !== 'string' && typeof value !== 'number') {
      this.fail(key, 'must be a string', value);
      return String(CONTEXT_DEFAULTS[key]);
    }
    return String(value).trim();
  }

  integer(key: ContextKey, min: number, max: number): number {
    const value = this.raw(key);
    const parsed = typeof value === 'number' ? value : typeof value === 'string' && value.trim() ? Number(value) : NaN;
    if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
      this.fail(key, `must be an integer between ${min} and ${max}`, value);
      return CONTEXT_DEFAULTS[key] as number;
    }
    return parsed;
  }

  number(key: ContextKey, min: number, max: number): number {
    const value = this.raw(key);
    const parsed = typeof value === 'number' ? value : typeof value === 'string' && value.trim() ? Number(value) : NaN;
    if (!Number.isFinite(parsed) || parsed < min || parsed > max) {
      this.fail(key, `must be a number from ${min} to ${max}`, value);
      return CONTEXT_DEFAULTS[key] as number;
    }
    return parsed;
  }

  matching(key: ContextKey, pattern: RegExp, rule: string): string {
    const value = this.text(key);
    if (!pattern.test(value)) this.fail(key, rule, value);
    return value;
  }

  oneOf<T extends string>(key: ContextKey, allowed: readonly T[], normalise: (s: string) => string): T {
    const value = normalise(this.text(key));
    if (!(allowed as readonly string[]).includes(value)) {
      this.fail(key, `must be one of ${allowed.join(', ')}`, value);
      return CONTEXT_DEFAULTS[key] as T;
    }
    return value as T;
  }
}

function readTags(values: ContextValues): VaultConfig['tags'] {
  const tagRule = 'must be a Zendesk tag: lower-case letters, digits and _ - : . / (1-80 characters, no spaces)';
  const tags = {
    request: values.matching('tagRequest', TAG, tagRule),
    processing: values.matching('tagProcessing', TAG, tagRule),
    archived: values.matching('tagArchived', TAG, tagRule),
    failed: values.matching('tagFailed', TAG, tagRule),
  };
  const tagValues = Object.values(tags);
  if (new Set(tagValues).size !== tagValues.length) {
    values.fail('tagRequest/tagProcessing/tagArchived/tagFailed', 'must be four different tags', tagValues);
  }
  return tags;
}

function readContentHosts(values: ContextValues): string[] {
  const contentHosts = readList(values.raw('contentHosts'));
  if (contentHosts.length === 0) values.fail('contentHosts', 'must name at least one host', values.raw('contentHosts'));
  for (const host of contentHosts) {
    if (!HOST_PATTERN.test(host) && !isHttpsOrigin(host)) {
      values.fail('contentHosts', 'entries must be host names, `*.`-prefixed host names or https:// origins', host);
    }
  }
  return contentHosts;
}

function readAlarmEmail(values: ContextValues): string {
  const alarmEmail = values.text('alarmEmail');
  if (alarmEmail && !EMAIL.test(alarmEmail)) values.fail('alarmEmail', 'must be one e-mail address, or empty for none', alarmEmail);
  return alarmEmail;
}

function readLogRetentionDays(values: ContextValues): number {
  const logRetentionDays = values.integer('logRetentionDays', 1, 9999);
  if (!RETENTION_VALUES.includes(logRetentionDays)) {
    values.fail('logRetentionDays', `must be one of CloudWatch Logs' retention values (${RETENTION_VALUES.join(', ')})`, logRetentionDays);
  }
  return logRetentionDays;
}

const GROUP = /^[\w+=,.@:-]{1,128}$/;
const CLAIM = /^[\w:./-]{1,128}$/;
const DOMAIN_PREFIX = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

function readViewer(values: ContextValues): ViewerConfig {
  const issuer = values.text('viewerOidcIssuer');
  const audience = values.text('viewerOidcAudience');
  if (issuer && !isHttpsUrl(issuer)) values.fail('viewerOidcIssuer', 'must be the https:// issuer URL of your OIDC provider', issuer);
  if (issuer && !audience) values.fail('viewerOidcAudience', 'is required with viewerOidcIssuer (the client ID the tokens are issued for)', audience);
  if (!issuer && audience) values.fail('viewerOidcIssuer', 'is required with viewerOidcAudience', issuer);
  const group = values.matching('viewerGroup', GROUP, 'must be a group name (1-128 of letters, digits and + = , . @ : _ -)');
  const claim = values.text('viewerGroupsClaim');
  if (claim && !CLAIM.test(claim)) values.fail('viewerGroupsClaim', 'must be a claim name', claim);
  const prefix = values.text('viewerCognitoDomainPrefix').toLowerCase();
  if (prefix && (!DOMAIN_PREFIX.test(prefix) || /aws|amazon|cognito/.test(prefix))) {
    values.fail('viewerCognitoDomainPrefix', 'must be lower-case letters, digits and -, without aws, amazon or cognito', prefix);
  }
  return {
    ...(issuer && audience ? { oidc: { issuer: issuer.replace(/\/+$/, ''), audience } } : {}),
    group,
    groupsClaim: claim || (issuer ? 'groups' : 'cognito:groups'),
    ...(prefix ? { cognitoDomainPrefix: prefix } : {}),
  };
}

function isHttpsUrl(value: string): boolean {
  try {
    return new URL(value).protocol === 'https:';
  } catch {
    return false;
  }
}

/** Reads and validates the whole configuration; throws one ContextError listing every invalid key. */
export function readVaultConfig(context: ContextReader): VaultConfig {
  const values = new ContextValues(context);
  // Problems are listed in the order they are found: keep the reads in this order.
  const zendeskUrl = readZendeskUrl(context, values.fail);
  const tags = readTags(values);
  const contentHosts = readContentHosts(values);
  const alarmEmail = readAlarmEmail(values);
  const logRetentionDays = readLogRetentionDays(values);
  const apiThrottleRateLimit = values.integer('apiThrottleRateLimit', 1, 10_000);
  const apiThrottleBurstLimit = values.integer('apiThrottleBurstLimit', 1, 5_000);
  const retentionDays = values.integer('retentionDays', 0, 36_500);
  const viewer = readViewer(values);

  const config: VaultConfig = {
    stackName: values.matching('stackName', STACK_NAME, 'must be a CloudFormation stack name (letters, digits, -; starts with a letter)'),
    zendeskUrl: zendeskUrl ?? '',
    contentHosts,
    tags,
    // Zendesk's rate limits are account-wide, so the Map stays narrow; 0 (unbounded) is not offered.
    mapMaxConcurrency: values.integer('mapMaxConcurrency', 1, 40),
    copyInlineMaxFiles: values.integer('copyInlineMaxFiles', 0, 500),
    notifyFormat: values.oneOf('notifyFormat', NOTIFY_FORMATS, (s) => s.toLowerCase()),
    objectLockDays: values.integer('objectLockDays', 0, 36_500),
    noncurrentVersionExpirationDays: values.integer('noncurrentVersionExpirationDays', 1, 36_500),
    alarmEmail: alarmEmail || undefined,
    maxAttachmentMb: values.integer('maxAttachmentMb', 1, 5 * 1024),
    webhookTimestampToleranceSeconds: values.integer('webhookTimestampToleranceSeconds', 30, 86_400),
    logRetentionDays: logRetentionDays as RetentionDays,
    logLevel: values.oneOf('logLevel', LOG_LEVELS, (s) => s.toUpperCase()),
    apiThrottleRateLimit,
    apiThrottleBurstLimit,
    retentionDays,
    viewer,
    zendeskRequestsPerMinute: values.integer('zendeskRequestsPerMinute', 0, 10_000) || undefined,
    backfillShare: values.number('backfillShare', 0.05, 1),
    // Each ticket runs its own copy Map (mapMaxConcurrency) and all share one Zendesk budget: a wide Map only queues.
    backfillMaxConcurrency: values.integer('backfillMaxConcurrency', 1, 1000),
  };
  if (retentionDays > 0 && config.objectLockDays > retentionDays) {
    values.fail('retentionDays', `must be at least objectLockDays (${config.objectLockDays}): a locked version cannot expire before its retention ends`, retentionDays);
  }

  if (values.problems.length > 0) {
    throw new ContextError(
      `Invalid attachment-vault context (set it in cdk.json "context" or with -c key=value):\n  - ${values.problems.join('\n  - ')}`,
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
