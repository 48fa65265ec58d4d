import type { Env } from './config.js';
import { ConfigurationError, SecretUnavailable } from './errors.js';

/**
 * Secrets: AWS Secrets Manager in AWS (through Powertools Parameters, cached 5 minutes), environment variables
 * locally. A secret is read from Secrets Manager only when its `*_SECRET_ARN` variable is set.
 * Never log a secret value, and never put one in an error message: errors here name the variable only.
 *
 * | Helper                     | In AWS (ARN variable -> JSON secret)          | Locally (no ARN variable)          |
 * |----------------------------|-----------------------------------------------|------------------------------------|
 * | webhookSigningSecret       | WEBHOOK_SECRET_ARN -> {"secret": "..."}       | ZENDESK_WEBHOOK_SECRET             |
 * | notifyWebhookUrl           | NOTIFY_SECRET_ARN  -> {"url": "https://..."}  | NOTIFY_WEBHOOK_URL (unset = off)   |
 * | zendeskCredentialsSecret   | ZENDESK_SECRET_ARN -> any JSON object         | undefined: the caller reads env    |
 */

export { SecretUnavailable };

/** Reads one secret by ARN and returns its JSON value. Injected in tests. */
export type SecretFetcher = (arn: string) => Promise<unknown>;

export const SECRET_MAX_AGE_SECONDS = 300;

const powertoolsFetcher: SecretFetcher = async (arn) => {
  // Imported lazily: local runs never load the Secrets Manager client.
  const { getSecret } = await import('@aws-lambda-powertools/parameters/secrets');
  return getSecret(arn, { transform: 'json', maxAge: SECRET_MAX_AGE_SECONDS });
};

/**
 * The JSON object stored in the secret named by `env[arnEnvName]`, or undefined when that variable is unset
 * (local mode: the caller falls back to plain environment variables).
 */
export async function getSecretJson<T extends object>(
  arnEnvName: string,
  env: Env = process.env,
  fetchSecret: SecretFetcher = powertoolsFetcher,
): Promise<T | undefined> {
  const arn = env[arnEnvName]?.trim();
  if (!arn) return undefined;
  let value: unknown;
  try {
    value = await fetchSecret(arn);
  } catch (error) {
    const name = error instanceof Error ? error.name : 'Error';
    // A transform failure means the stored value is not JSON: its message may quote the value, so drop it.
    if (name === 'TransformParameterError') {
      throw new ConfigurationError(`the secret in ${arnEnvName} is not valid JSON`);
    }
    if (name === 'ParameterNotFoundError' || name === 'ResourceNotFoundException') {
      throw new ConfigurationError(`the secret in ${arnEnvName} does not exist`);
    }
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.name : name;
    throw new SecretUnavailable(`the secret in ${arnEnvName} could not be read (${cause})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigurationError(`the secret in ${arnEnvName} is not a JSON object`);
  }
  return value as T;
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** The Zendesk webhook signing secret. Required: throws ConfigurationError when it is nowhere. */
export async function webhookSigningSecret(env: Env = process.env, fetchSecret?: SecretFetcher): Promise<string> {
  const stored = await getSecretJson<{ secret?: unknown }>('WEBHOOK_SECRET_ARN', env, fetchSecret);
  if (stored) {
    const secret = nonEmptyString(stored.secret);
    if (!secret) throw new ConfigurationError('the secret in WEBHOOK_SECRET_ARN has no "secret" string');
    return secret;
  }
  const local = nonEmptyString(env.ZENDESK_WEBHOOK_SECRET);
  if (!local) throw new ConfigurationError('WEBHOOK_SECRET_ARN or ZENDESK_WEBHOOK_SECRET must be set');
  return local;
}

/** The Slack/Zapier webhook URL, or undefined when notifications are off. */
export async function notifyWebhookUrl(
  env: Env = process.env,
  fetchSecret?: SecretFetcher,
): Promise<string | undefined> {
  const stored = await getSecretJson<{ url?: unknown }>('NOTIFY_SECRET_ARN', env, fetchSecret);
  if (stored) return nonEmptyString(stored.url);
  return nonEmptyString(env.NOTIFY_WEBHOOK_URL);
}

/** The raw Zendesk credentials object from Secrets Manager, or undefined locally (the caller reads env). */
export async function zendeskCredentialsSecret(
  env: Env = process.env,
  fetchSecret?: SecretFetcher,
): Promise<Record<string, unknown> | undefined> {
  return getSecretJson<Record<string, unknown>>('ZENDESK_SECRET_ARN', env, fetchSecret);
}
