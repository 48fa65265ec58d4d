import { zendeskSettings, type Env } from '../config.js';
import { zendeskCredentialsSecret } from '../secrets.js';
import { createZendeskClient } from './client.js';
import { credentialsFromEnv, credentialsFromSecret } from './credentials.js';
import type { ZendeskApi } from './types.js';

let cached: Promise<ZendeskApi> | undefined;

/**
 * The Zendesk client of this container, built once: credentials from Secrets Manager when
 * ZENDESK_SECRET_ARN is set (AWS), from environment variables otherwise (local).
 */
export function zendeskFromEnv(env: Env = process.env): Promise<ZendeskApi> {
  cached ??= (async () => {
    const settings = zendeskSettings(env);
    const secret = await zendeskCredentialsSecret(env);
    const credentials = secret ? credentialsFromSecret(secret) : credentialsFromEnv(env);
    return createZendeskClient({ baseUrl: settings.baseUrl, credentials, contentHosts: settings.contentHosts });
  })().catch((error: unknown) => {
    cached = undefined;
    throw error;
  });
  return cached;
}

/** Forgets the cached client (the local runtime calls this when it changes the environment). */
export function resetZendeskClient(): void {
  cached = undefined;
}
