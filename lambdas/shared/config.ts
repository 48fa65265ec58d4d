import { ConfigurationError } from './errors.js';

/**
 * Settings read from the environment. Secrets are NOT here: see secrets.ts (Secrets Manager in AWS,
 * environment variables locally). Each reader validates and throws ConfigurationError with the variable's name.
 */
export type Env = Record<string, string | undefined>;

export interface TagConfig {
  /** Added by the Zendesk trigger; removed by the workflow if still there. */
  request: string;
  processing: string;
  archived: string;
  failed: string;
}

export interface ZendeskSettings {
  /** Origin of the Zendesk account, e.g. https://acme.zendesk.com (no trailing slash). */
  baseUrl: string;
  /** Hosts a content_url may redirect to: hostname patterns (`*.zdusercontent.com`) or full origins. */
  contentHosts: string[];
}

export interface ArchiveSettings {
  bucket: string;
  region: string;
  endpoint?: string;
  forcePathStyle: boolean;
  keyPrefix: string;
  partSizeBytes: number;
  queueSize: number;
  maxAttachmentBytes: number;
}

function required(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigurationError(`${name} is not set`);
  return value;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigurationError(`${name} must be an integer between ${min} and ${max}`);
  }
  return value;
}

function flag(env: Env, name: string): boolean {
  return ['1', 'true', 'yes'].includes((env[name] ?? '').trim().toLowerCase());
}

export function tagConfig(env: Env = process.env): TagConfig {
  return {
    request: env.TAG_REQUEST?.trim() || 'vault_archive',
    processing: env.TAG_PROCESSING?.trim() || 'vault_processing',
    archived: env.TAG_ARCHIVED?.trim() || 'vault_archived',
    failed: env.TAG_FAILED?.trim() || 'vault_failed',
  };
}

/** Normalises ZENDESK_URL to an origin; any http(s) origin is accepted (sandboxes run on http://127.0.0.1). */
export function zendeskSettings(env: Env = process.env): ZendeskSettings {
  const raw = required(env, 'ZENDESK_URL');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigurationError('ZENDESK_URL is not a valid URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigurationError('ZENDESK_URL must be an http(s) URL');
  }
  const hosts = (env.ZENDESK_CONTENT_HOSTS ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  return { baseUrl: url.origin, contentHosts: hosts.length ? hosts : ['*.zdusercontent.com'] };
}

export function archiveSettings(env: Env = process.env): ArchiveSettings {
  return {
    bucket: required(env, 'ARCHIVE_BUCKET'),
    region: env.AWS_REGION?.trim() || 'us-east-1',
    endpoint: env.AWS_ENDPOINT_URL_S3?.trim() || undefined,
    forcePathStyle: flag(env, 'S3_FORCE_PATH_STYLE'),
    keyPrefix: 'tickets',
    // 5 MiB x 2 in flight: the largest parts whose 1 GiB copy stays within 64 MiB of a 1 MiB copy's peak RSS,
    // and queue 2 keeps the download flowing while a part uploads (docs/benchmarks.md).
    partSizeBytes: integer(env, 'COPY_PART_SIZE_MB', 5, 5, 512) * 1024 * 1024,
    queueSize: integer(env, 'COPY_QUEUE_SIZE', 2, 1, 16),
    maxAttachmentBytes: integer(env, 'MAX_ATTACHMENT_MB', 1024, 1, 5 * 1024) * 1024 * 1024,
  };
}

/** Map MaxConcurrency: Zendesk's limits are account-wide, so keep it low. */
export function mapMaxConcurrency(env: Env = process.env): number {
  return integer(env, 'MAP_MAX_CONCURRENCY', 4, 1, 40);
}

export function idempotencyTable(env: Env = process.env): string {
  return required(env, 'IDEMPOTENCY_TABLE');
}
