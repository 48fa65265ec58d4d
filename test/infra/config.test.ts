import { describe, expect, it } from '@jest/globals';
import { CONTEXT_DEFAULTS, ContextError, readVaultConfig } from '../../infra/config.js';
import { cdkJsonContext } from './support/vault.js';

const read = (context: Record<string, unknown>) => readVaultConfig((key) => context[key]);

describe('CDK context', () => {
  it('cdk.json documents every key with the same default as the code', () => {
    const context = cdkJsonContext();
    for (const [key, value] of Object.entries(CONTEXT_DEFAULTS)) expect([key, context[key]]).toEqual([key, value]);
    expect(context.zendeskSubdomain).toBe('example');
    expect(context['app']).toBeUndefined();
  });

  it('applies the defaults when only the Zendesk subdomain is given', () => {
    const config = read({ zendeskSubdomain: 'acme' });
    expect(config).toMatchObject({
      stackName: 'AttachmentVault',
      zendeskUrl: 'https://acme.zendesk.com',
      contentHosts: ['*.zdusercontent.com'],
      tags: { request: 'vault_archive', processing: 'vault_processing', archived: 'vault_archived', failed: 'vault_failed' },
      mapMaxConcurrency: 4,
      notifyFormat: 'slack',
      objectLockDays: 0,
      alarmEmail: undefined,
      maxAttachmentMb: 1024,
      webhookTimestampToleranceSeconds: 900,
    });
  });

  it('parses -c values, which arrive as strings', () => {
    const config = read({
      zendeskSubdomain: 'acme',
      mapMaxConcurrency: '5',
      objectLockDays: '30',
      notifyFormat: 'Zapier',
      contentHosts: '*.zdusercontent.com, https://files.acme.com',
      alarmEmail: 'ops@acme.com',
    });
    expect(config.mapMaxConcurrency).toBe(5);
    expect(config.objectLockDays).toBe(30);
    expect(config.notifyFormat).toBe('zapier');
    expect(config.contentHosts).toEqual(['*.zdusercontent.com', 'https://files.acme.com']);
    expect(config.alarmEmail).toBe('ops@acme.com');
  });

  it('lets zendeskUrl override the subdomain that cdk.json ships with', () => {
    expect(read({ zendeskSubdomain: 'example', zendeskUrl: 'https://support.acme.com/' }).zendeskUrl).toBe('https://support.acme.com');
  });

  it('requires a Zendesk subdomain or URL', () => {
    expect(() => read({})).toThrow(/"zendeskSubdomain" or "zendeskUrl" is required/);
  });

  it('reports every invalid key at once, each by name', () => {
    let error: unknown;
    try {
      read({
        zendeskUrl: 'http://acme.zendesk.com/path',
        mapMaxConcurrency: 0,
        notifyFormat: 'teams',
        objectLockDays: -1,
        tagFailed: 'vault archived',
        contentHosts: 'not a host',
        alarmEmail: 'nobody',
        logRetentionDays: 42,
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ContextError);
    const message = (error as Error).message;
    for (const key of ['zendeskUrl', 'mapMaxConcurrency', 'notifyFormat', 'objectLockDays', 'tagFailed', 'contentHosts', 'alarmEmail', 'logRetentionDays']) {
      expect(message).toContain(`"${key}"`);
    }
  });

  it('rejects tags that are not all different', () => {
    expect(() => read({ zendeskSubdomain: 'acme', tagArchived: 'vault_archive' })).toThrow(/four different tags/);
  });
});
