/**
 * `attachment-vault zendesk setup` against the sandbox Zendesk's webhooks and triggers API: the resources it
 * leaves behind, what a second run does (nothing), how it repairs a manual change, and where the signing secret goes.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetSecretValueCommand, PutSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { startSandboxZendesk, type SandboxZendesk } from '../../../local/sandbox/zendesk.js';
import { createZendeskAdmin, type ZendeskAdminApi } from '../../../cli/zendesk-admin.js';
import { verifyZendeskSignature } from '../../../lambdas/shared/signature.js';
import { logger } from '../../../lambdas/shared/logger.js';
import {
  NEW_WEBHOOK_ID,
  TRIGGER_TITLE,
  WEBHOOK_NAME,
  zendeskSetup,
  type SetupOptions,
} from '../../../cli/zendesk-setup.js';

logger.setLogLevel('SILENT');

const secretsManager = mockClient(SecretsManagerClient);
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:WebhookSigningSecret-AbCdEf';
const auth = { email: 'admin@sandbox.example', apiToken: 'sandbox-admin-token' };

let sandbox: SandboxZendesk;
let admin: ZendeskAdminApi;
let receiver: Server;
let webhookUrl: string;
let received: Array<{ headers: Record<string, string>; body: string }>;
let log: string[];

const options = (extra: Partial<SetupOptions> = {}): SetupOptions => ({
  webhookUrl,
  requestTag: 'vault_archive',
  processingTag: 'vault_processing',
  ...extra,
});

const setup = (extra: Partial<SetupOptions> = {}) =>
  zendeskSetup(options(extra), { admin, secretsManager: new SecretsManagerClient({ region: 'eu-west-1' }), log: (line) => log.push(line) });

/** Requests that would change the account (anything but GET). */
const writes = () => sandbox.requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path.split('?')[0]}`);

beforeEach(async () => {
  secretsManager.reset();
  log = [];
  received = [];
  sandbox = await startSandboxZendesk({ auth });
  admin = createZendeskAdmin({ baseUrl: sandbox.url, credentials: { kind: 'api_token', ...auth }, retry: { baseDelayMs: 1, maxDelayMs: 5 } });
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      received.push({ headers: request.headers as Record<string, string>, body: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(202).end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  webhookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/zendesk`;
});

afterEach(async () => {
  await sandbox.close();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

describe('zendesk setup', () => {
  it('creates a trigger-connected webhook and a trigger that removes the request tag and posts the ticket ID', async () => {
    const report = await setup();

    expect(report).toEqual({
      webhook: { id: expect.any(String), action: 'created' },
      trigger: { id: expect.any(Number), action: 'created' },
      secret: 'not revealed',
    });
    const [webhook] = await admin.findWebhooks(WEBHOOK_NAME);
    expect(webhook).toMatchObject({
      id: report.webhook.id,
      status: 'active',
      endpoint: webhookUrl,
      http_method: 'POST',
      request_format: 'json',
      subscriptions: ['conditional_ticket_events'],
    });
    const [trigger] = await admin.findTriggers(TRIGGER_TITLE);
    expect(trigger).toMatchObject({
      id: report.trigger.id,
      active: true,
      conditions: {
        all: [
          { field: 'current_tags', operator: 'includes', value: 'vault_archive' },
          { field: 'current_tags', operator: 'not_includes', value: 'vault_processing' },
        ],
        any: [],
      },
      actions: [
        { field: 'notification_webhook', value: [report.webhook.id, '{"ticket_id":"{{ticket.id}}","updated_at":"{{ticket.updated_at_with_timestamp}}"}'] },
        { field: 'remove_tags', value: 'vault_archive' },
      ],
    });
  });

  it('leaves an account where tagging a ticket sends one signed webhook with its ID and drops the tag', async () => {
    const report = await setup({ printSecret: true });
    sandbox.createTicket({ id: 4242, status: 'open', tags: [] });

    sandbox.agentUpdate(4242, { addTags: ['vault_archive'] });
    await sandbox.settleWebhooks();
    sandbox.agentUpdate(4242, { addTags: ['unrelated'] }); // the tag is gone: no second delivery
    await sandbox.settleWebhooks();

    expect(received).toHaveLength(1);
    expect(JSON.parse(received[0]!.body)).toEqual({ ticket_id: '4242', updated_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/) });
    expect(sandbox.ticket(4242)!.tags).not.toContain('vault_archive');
    const check = verifyZendeskSignature({
      secret: report.signingSecret!,
      timestamp: received[0]!.headers['x-zendesk-webhook-signature-timestamp']!,
      signature: received[0]!.headers['x-zendesk-webhook-signature']!,
      rawBody: Buffer.from(received[0]!.body),
    });
    expect(check).toEqual({ ok: true });
  });

  it('does not fire for a ticket that is already being processed', async () => {
    await setup();
    sandbox.createTicket({ id: 4243, status: 'open', tags: ['vault_processing'] });

    sandbox.agentUpdate(4243, { addTags: ['vault_archive'] });
    await sandbox.settleWebhooks();

    expect(received).toHaveLength(0);
  });

  it('changes nothing on a second run and reports both resources unchanged', async () => {
    const first = await setup();
    sandbox.resetCounts();

    const second = await setup();

    expect(second).toEqual({
      webhook: { id: first.webhook.id, action: 'unchanged' },
      trigger: { id: first.trigger.id, action: 'unchanged' },
      secret: 'not revealed',
    });
    expect(writes()).toEqual([]);
    expect(await admin.findWebhooks(WEBHOOK_NAME)).toHaveLength(1);
    expect(await admin.findTriggers(TRIGGER_TITLE)).toHaveLength(1);
  });

  it('puts back what an admin changed by hand, naming each change, and keeps the IDs', async () => {
    const first = await setup();
    const webhookId = String(first.webhook.id);
    await admin.updateWebhook(webhookId, { status: 'inactive', endpoint: 'https://elsewhere.example/hook' });
    const [trigger] = await admin.findTriggers(TRIGGER_TITLE);
    await admin.updateTrigger(trigger!.id, { ...trigger!, active: false, conditions: { all: [trigger!.conditions.all[0]!], any: [] } });

    const repaired = await setup();

    expect(repaired.webhook).toEqual({
      id: webhookId,
      action: 'updated',
      changes: {
        status: { from: 'inactive', to: 'active' },
        endpoint: { from: 'https://elsewhere.example/hook', to: webhookUrl },
      },
    });
    expect(repaired.trigger).toMatchObject({ id: trigger!.id, action: 'updated', changes: { active: { from: false, to: true }, conditions: expect.any(Object) } });
    expect(await admin.findWebhooks(WEBHOOK_NAME)).toEqual([expect.objectContaining({ status: 'active', endpoint: webhookUrl })]);
    expect((await admin.findTriggers(TRIGGER_TITLE))[0]!.conditions.all).toHaveLength(2);
    expect((await setup()).webhook.action).toBe('unchanged');
  });

  it('follows new tag names and a new webhook URL on the existing resources', async () => {
    await setup();
    webhookUrl = 'https://abc123.execute-api.eu-west-1.amazonaws.com/webhooks/zendesk';

    const report = await setup({ requestTag: 'archive_now', processingTag: 'archiving' });

    expect(report.webhook.action).toBe('updated');
    expect(report.trigger.action).toBe('updated');
    const [trigger] = await admin.findTriggers(TRIGGER_TITLE);
    expect(trigger!.actions).toContainEqual({ field: 'remove_tags', value: 'archive_now' });
    expect(trigger!.conditions.all).toContainEqual({ field: 'current_tags', operator: 'not_includes', value: 'archiving' });
  });

  describe('--dry-run', () => {
    it('plans two creates on a fresh account and creates nothing', async () => {
      const plan = await setup({ dryRun: true, secretId: SECRET_ARN });

      expect(plan).toMatchObject({
        dryRun: true,
        webhook: { id: null, action: 'create', changes: { endpoint: { to: webhookUrl }, subscriptions: { to: ['conditional_ticket_events'] } } },
        trigger: { id: null, action: 'create' },
        secret: 'would be stored',
      });
      expect((plan.trigger.changes!.actions!.to as Array<{ value: unknown }>)[0]!.value).toEqual([NEW_WEBHOOK_ID, '{"ticket_id":"{{ticket.id}}","updated_at":"{{ticket.updated_at_with_timestamp}}"}']);
      expect(writes()).toEqual([]);
      expect(await admin.findWebhooks(WEBHOOK_NAME)).toEqual([]);
      expect(secretsManager.calls()).toHaveLength(0);
    });

    it('shows the diff of a pending update and changes nothing', async () => {
      const first = await setup();
      await admin.updateWebhook(String(first.webhook.id), { http_method: 'PUT' });
      sandbox.resetCounts();

      const plan = await setup({ dryRun: true });

      expect(plan.webhook).toEqual({ id: first.webhook.id, action: 'update', changes: { http_method: { from: 'PUT', to: 'POST' } } });
      expect(plan.trigger).toEqual({ id: first.trigger.id, action: 'unchanged' });
      expect(writes()).toEqual([]);
      expect((await admin.findWebhooks(WEBHOOK_NAME))[0]!.http_method).toBe('PUT');
    });
  });

  describe('the signing secret', () => {
    it('is never fetched or printed by default', async () => {
      const report = await setup();

      expect(report.secret).toBe('not revealed');
      expect(report).not.toHaveProperty('signingSecret');
      expect(sandbox.requests.some((r) => r.path.includes('signing_secret'))).toBe(false);
      expect(JSON.stringify(report) + log.join('\n')).not.toContain(sandbox.webhookSigningSecret(String(report.webhook.id)));
    });

    it('is printed with --print-secret', async () => {
      const report = await setup({ printSecret: true });

      expect(report.secret).toBe('printed');
      expect(report.signingSecret).toBe(sandbox.webhookSigningSecret(String(report.webhook.id)));
      expect(log.join('\n')).not.toContain(report.signingSecret);
    });

    it('is stored in Secrets Manager as {"secret": ...} with --secret-id, and not printed', async () => {
      secretsManager.on(GetSecretValueCommand).resolves({ SecretString: '{"secret":""}' });
      secretsManager.on(PutSecretValueCommand).resolves({ VersionId: 'v2' });

      const report = await setup({ secretId: SECRET_ARN });

      const secret = sandbox.webhookSigningSecret(String(report.webhook.id))!;
      expect(report).toMatchObject({ secret: 'stored', secretAction: 'updated' });
      expect(report).not.toHaveProperty('signingSecret');
      expect(JSON.stringify(report) + log.join('\n')).not.toContain(secret);
      const puts = secretsManager.commandCalls(PutSecretValueCommand);
      expect(puts).toHaveLength(1);
      expect(puts[0]!.args[0].input).toEqual({ SecretId: SECRET_ARN, SecretString: JSON.stringify({ secret }) });
    });

    it('is not written again when the secret already holds it', async () => {
      const first = await setup({ printSecret: true });
      secretsManager.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ secret: first.signingSecret }) });

      const report = await setup({ secretId: SECRET_ARN });

      expect(report).toMatchObject({ secret: 'stored', secretAction: 'unchanged' });
      expect(secretsManager.commandCalls(PutSecretValueCommand)).toHaveLength(0);
    });

    it('names the stack output when the secret does not exist', async () => {
      secretsManager.on(GetSecretValueCommand).rejects(new ResourceNotFoundException({ message: 'not found', $metadata: {} }));

      await expect(setup({ secretId: SECRET_ARN })).rejects.toMatchObject({ name: 'SetupConflict', message: expect.stringContaining('WebhookSecretArn') });
    });
  });

  it('refuses --secret-id together with --print-secret, and equal tags', async () => {
    await expect(setup({ secretId: SECRET_ARN, printSecret: true })).rejects.toMatchObject({ name: 'UsageError' });
    await expect(setup({ processingTag: 'vault_archive' })).rejects.toMatchObject({ name: 'UsageError' });
    expect(sandbox.requests).toHaveLength(0);
  });

  it('refuses to adopt a same-named webhook that subscribes to events (its mode cannot change)', async () => {
    await admin.createWebhook({
      name: WEBHOOK_NAME,
      status: 'active',
      endpoint: webhookUrl,
      http_method: 'POST',
      request_format: 'json',
      subscriptions: ['zen:event-type:ticket.tags_changed'],
    });

    await expect(setup()).rejects.toMatchObject({ name: 'SetupConflict', message: expect.stringContaining('connection mode') });
    expect(await admin.findTriggers(TRIGGER_TITLE)).toEqual([]);
  });

  it('fails with ZendeskAuthFailed when Zendesk refuses the credentials', async () => {
    const agent = createZendeskAdmin({ baseUrl: sandbox.url, credentials: { kind: 'api_token', email: auth.email, apiToken: 'wrong' }, retry: { baseDelayMs: 1 } });

    await expect(zendeskSetup(options(), { admin: agent })).rejects.toMatchObject({ name: 'ZendeskAuthFailed' });
  });
});
