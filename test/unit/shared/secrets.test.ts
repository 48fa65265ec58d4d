import { beforeEach, describe, expect, it, jest } from '@jest/globals';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import {
  getSecretJson,
  notifyWebhookUrl,
  SecretUnavailable,
  webhookSigningSecret,
  zendeskCredentialsSecret,
  type SecretFetcher,
} from '../../../lambdas/shared/secrets.js';

const secretsManager = mockClient(SecretsManagerClient);
const ARN = (name: string) => `arn:aws:secretsmanager:eu-west-1:111122223333:secret:${name}`;

beforeEach(() => {
  secretsManager.reset();
  process.env.AWS_REGION ??= 'eu-west-1';
});

describe('secrets', () => {
  it('falls back to environment variables when no *_SECRET_ARN is set', async () => {
    const env = { ZENDESK_WEBHOOK_SECRET: 's3cret', NOTIFY_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/x' };
    const fetchSecret = jest.fn<SecretFetcher>();
    await expect(webhookSigningSecret(env, fetchSecret)).resolves.toBe('s3cret');
    await expect(notifyWebhookUrl(env, fetchSecret)).resolves.toBe('https://hooks.slack.com/services/T/B/x');
    await expect(zendeskCredentialsSecret(env, fetchSecret)).resolves.toBeUndefined();
    expect(fetchSecret).not.toHaveBeenCalled();
  });

  it('turns notifications off when no URL is configured anywhere', async () => {
    await expect(notifyWebhookUrl({})).resolves.toBeUndefined();
  });

  it('requires a webhook signing secret', async () => {
    await expect(webhookSigningSecret({})).rejects.toMatchObject({ name: 'ConfigurationError' });
  });

  it('reads JSON secrets through Powertools from Secrets Manager when the ARN is set', async () => {
    secretsManager
      .on(GetSecretValueCommand, { SecretId: ARN('webhook') })
      .resolves({ SecretString: JSON.stringify({ secret: 'from-aws' }) })
      .on(GetSecretValueCommand, { SecretId: ARN('notify') })
      .resolves({ SecretString: JSON.stringify({ url: 'https://hooks.zapier.com/hooks/catch/1/abc/' }) })
      .on(GetSecretValueCommand, { SecretId: ARN('zendesk') })
      .resolves({ SecretString: JSON.stringify({ email: 'a@b.c', apiToken: 't' }) });
    const env = {
      WEBHOOK_SECRET_ARN: ARN('webhook'),
      NOTIFY_SECRET_ARN: ARN('notify'),
      ZENDESK_SECRET_ARN: ARN('zendesk'),
      ZENDESK_WEBHOOK_SECRET: 'ignored-when-arn-is-set',
    };
    await expect(webhookSigningSecret(env)).resolves.toBe('from-aws');
    await expect(notifyWebhookUrl(env)).resolves.toBe('https://hooks.zapier.com/hooks/catch/1/abc/');
    await expect(zendeskCredentialsSecret(env)).resolves.toEqual({ email: 'a@b.c', apiToken: 't' });
    // Cached for 5 minutes: a second read does not call Secrets Manager again.
    await webhookSigningSecret(env);
    expect(secretsManager.commandCalls(GetSecretValueCommand, { SecretId: ARN('webhook') })).toHaveLength(1);
  });

  it('never puts a non-JSON secret value into the error', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: 'plain-text-secret-value' });
    const error = await getSecretJson('WEBHOOK_SECRET_ARN', { WEBHOOK_SECRET_ARN: ARN('not-json') }).catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'ConfigurationError' });
    expect(String((error as Error).message)).not.toContain('plain-text-secret-value');
  });

  it('reports a Secrets Manager outage as retryable SecretUnavailable', async () => {
    const fetchSecret: SecretFetcher = async () => {
      throw Object.assign(new Error('wrapped'), { name: 'GetParameterError', cause: Object.assign(new Error('x'), { name: 'ThrottlingException' }) });
    };
    const error = await webhookSigningSecret({ WEBHOOK_SECRET_ARN: ARN('w') }, fetchSecret).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretUnavailable);
    expect(error).toMatchObject({ retryable: true, message: expect.stringContaining('ThrottlingException') });
  });

  it('rejects a secret without the expected field', async () => {
    const fetchSecret: SecretFetcher = async () => ({ signing_secret: 'x' });
    await expect(webhookSigningSecret({ WEBHOOK_SECRET_ARN: ARN('w2') }, fetchSecret)).rejects.toMatchObject({
      name: 'ConfigurationError',
    });
  });
});
