import { createHash } from 'node:crypto';
import { zendeskSettings, type Env } from '../config.js';
import { zendeskCredentialsSecret, type SecretFetcher } from '../secrets.js';
import { requestBudgetFromEnv } from '../request-budget.js';
import { createZendeskClient } from './client.js';
import { credentialsFromEnv, credentialsFromSecret } from './credentials.js';
import type { ZendeskApi } from './types.js';

let cached: { fingerprint: string; client: ZendeskApi } | undefined;

/**
 * The Zendesk client of this container: credentials from Secrets Manager when ZENDESK_SECRET_ARN is set (AWS), from
 * environment variables otherwise (local).
 *
 * The settings and credentials are read on every call (Secrets Manager through the Powertools cache, at most one
 * GetSecretValue per SECRET_MAX_AGE_SECONDS), and the client, with its OAuth token, is kept for as long as they stay
 * the same. So a rotated secret takes effect in a warm container within that cache age, not only after a cold start.
 * The fingerprint is a SHA-256 kept in memory only.
 */
export async function zendeskFromEnv(env: Env = process.env, fetchSecret?: SecretFetcher): Promise<ZendeskApi> {
  const settings = zendeskSettings(env);
  const secret = await zendeskCredentialsSecret(env, fetchSecret);
  const credentials = secret ? credentialsFromSecret(secret) : credentialsFromEnv(env);
  const fingerprint = createHash('sha256').update(JSON.stringify([settings, credentials])).digest('hex');
  if (cached?.fingerprint !== fingerprint) {
    const budget = requestBudgetFromEnv(env);
    cached = { fingerprint, client: createZendeskClient({ baseUrl: settings.baseUrl, credentials, contentHosts: settings.contentHosts, ...(budget ? { budget } : {}) }) };
  }
  return cached.client;
}

/** Forgets the cached client (the next call builds a new one, with a new OAuth token). */
export function resetZendeskClient(): void {
  cached = undefined;
}
