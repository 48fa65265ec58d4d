import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startSandboxZendesk, type SandboxZendesk } from '../../../local/sandbox/zendesk.js';
import { call } from './support.js';

let sandbox: SandboxZendesk;

beforeAll(async () => {
  sandbox = await startSandboxZendesk();
});
afterAll(() => sandbox.close());

type Webhook = Record<string, unknown> & { id: string };

const webhookInput = {
  name: 'attachment-vault',
  status: 'active',
  endpoint: 'https://example.com/zendesk/webhook',
  http_method: 'POST',
  request_format: 'json',
  subscriptions: ['conditional_ticket_events'],
};

async function createWebhook(extra: Record<string, unknown> = {}): Promise<Webhook> {
  const created = await call<{ webhook: Webhook }>(sandbox, 'POST', '/api/v2/webhooks', { body: { webhook: { ...webhookInput, ...extra } } });
  expect(created.status).toBe(201);
  return created.body.webhook;
}

describe('webhooks', () => {
  test('create (201) answers the webhook with a generated id; list and show return it', async () => {
    const webhook = await createWebhook({ authentication: { type: 'bearer_token', data: { token: 's3cret' }, add_position: 'header' } });
    expect(webhook).toMatchObject({ ...webhookInput, created_by: expect.any(String), created_at: expect.any(String) });
    expect(webhook.id).toMatch(/^[0-9A-Z]{26}$/);
    expect(webhook.authentication).toEqual({ type: 'bearer_token', add_position: 'header' });
    const listed = await call<{ webhooks: Webhook[]; meta: { has_more: boolean } }>(sandbox, 'GET', '/api/v2/webhooks');
    expect(listed.body.webhooks.map((w) => w.id)).toContain(webhook.id);
    expect(listed.body.meta.has_more).toBe(false);
    expect((await call<{ webhook: Webhook }>(sandbox, 'GET', `/api/v2/webhooks/${webhook.id}`)).body.webhook).toEqual(webhook);
  });

  test('missing mandatory fields are 400 with an errors list', async () => {
    const result = await call<{ errors: Array<{ code: string }> }>(sandbox, 'POST', '/api/v2/webhooks', {
      body: { webhook: { name: 'x' } },
    });
    expect(result.status).toBe(400);
    expect(result.body.errors[0]?.code).toBe('InvalidInput');
  });

  test('PATCH merges and PUT replaces (204 both); the connection mode cannot change', async () => {
    const webhook = await createWebhook({ description: 'first' });
    expect((await call(sandbox, 'PATCH', `/api/v2/webhooks/${webhook.id}`, { body: { webhook: { status: 'inactive' } } })).status).toBe(204);
    let shown = (await call<{ webhook: Webhook }>(sandbox, 'GET', `/api/v2/webhooks/${webhook.id}`)).body.webhook;
    expect(shown).toMatchObject({ status: 'inactive', description: 'first', endpoint: webhookInput.endpoint });
    const replaced = await call(sandbox, 'PUT', `/api/v2/webhooks/${webhook.id}`, {
      body: { webhook: { ...webhookInput, endpoint: 'https://example.com/v2' } },
    });
    expect(replaced.status).toBe(204);
    shown = (await call<{ webhook: Webhook }>(sandbox, 'GET', `/api/v2/webhooks/${webhook.id}`)).body.webhook;
    expect(shown).toMatchObject({ status: 'active', endpoint: 'https://example.com/v2' });
    expect(shown).not.toHaveProperty('description');
    const incomplete = await call(sandbox, 'PUT', `/api/v2/webhooks/${webhook.id}`, { body: { webhook: { name: 'only' } } });
    expect(incomplete.status).toBe(400);
    const modeChange = await call(sandbox, 'PATCH', `/api/v2/webhooks/${webhook.id}`, {
      body: { webhook: { subscriptions: ['zen:event-type:ticket.tags_changed'] } },
    });
    expect(modeChange.status).toBe(400);
  });

  test('the signing secret can be revealed and reset', async () => {
    const webhook = await createWebhook();
    const shown = await call<{ signing_secret: { algorithm: string; secret: string } }>(sandbox, 'GET', `/api/v2/webhooks/${webhook.id}/signing_secret`);
    expect(shown.status).toBe(200);
    expect(shown.body.signing_secret.algorithm).toBe('sha256');
    expect(shown.body.signing_secret.secret.length).toBeGreaterThanOrEqual(32);
    const reset = await call<{ signing_secret: { secret: string } }>(sandbox, 'POST', `/api/v2/webhooks/${webhook.id}/signing_secret`);
    expect(reset.status).toBe(201);
    expect(reset.body.signing_secret.secret).not.toBe(shown.body.signing_secret.secret);
    expect(sandbox.webhookSigningSecret(webhook.id)).toBe(reset.body.signing_secret.secret);
  });

  test('delete is 204; afterwards the webhook is 404', async () => {
    const webhook = await createWebhook();
    expect((await call(sandbox, 'DELETE', `/api/v2/webhooks/${webhook.id}`)).status).toBe(204);
    expect((await call(sandbox, 'GET', `/api/v2/webhooks/${webhook.id}`)).status).toBe(404);
    expect((await call(sandbox, 'GET', `/api/v2/webhooks/${webhook.id}/signing_secret`)).status).toBe(404);
  });
});

type Trigger = Record<string, unknown> & { id: number };

function projectTrigger(webhookId: string): Record<string, unknown> {
  return {
    title: 'Archive attachments when tagged',
    conditions: {
      all: [
        { field: 'update_type', operator: 'is', value: 'Change' },
        { field: 'current_tags', operator: 'includes', value: 'archive_attachments' },
      ],
      any: [],
    },
    actions: [
      { field: 'notification_webhook', value: [webhookId, '{"ticket_id":"{{ticket.id}}","updated_at":"{{ticket.updated_at_with_timestamp}}"}'] },
      { field: 'remove_tags', value: 'archive_attachments' },
      { field: 'current_tags', value: 'attachments_archive_requested' },
    ],
  };
}

describe('triggers', () => {
  test('create (201), list, show, update (200) and delete (204)', async () => {
    const webhook = await createWebhook();
    const created = await call<{ trigger: Trigger }>(sandbox, 'POST', '/api/v2/triggers', { body: { trigger: projectTrigger(webhook.id) } });
    expect(created.status).toBe(201);
    const trigger = created.body.trigger;
    expect(trigger).toMatchObject({ title: 'Archive attachments when tagged', active: true, conditions: projectTrigger(webhook.id).conditions });
    expect(trigger.url).toBe(`${sandbox.url}/api/v2/triggers/${trigger.id}.json`);
    const listed = await call<{ triggers: Trigger[]; count: number }>(sandbox, 'GET', '/api/v2/triggers');
    expect(listed.body.triggers.map((t) => t.id)).toContain(trigger.id);
    expect(listed.body.count).toBe(listed.body.triggers.length);
    const updated = await call<{ trigger: Trigger }>(sandbox, 'PUT', `/api/v2/triggers/${trigger.id}`, { body: { trigger: { active: false } } });
    expect(updated.body.trigger).toMatchObject({ id: trigger.id, active: false, title: trigger.title });
    expect((await call<{ trigger: Trigger }>(sandbox, 'GET', `/api/v2/triggers/${trigger.id}.json`)).body.trigger.active).toBe(false);
    expect((await call(sandbox, 'DELETE', `/api/v2/triggers/${trigger.id}`)).status).toBe(204);
    expect((await call(sandbox, 'GET', `/api/v2/triggers/${trigger.id}`)).status).toBe(404);
  });

  test('a trigger that notifies an unknown webhook is 422 RecordInvalid', async () => {
    const result = await call(sandbox, 'POST', '/api/v2/triggers', { body: { trigger: projectTrigger('01NOSUCHWEBHOOK0000000000') } });
    expect(result.status).toBe(422);
    expect(result.body).toMatchObject({ error: 'RecordInvalid' });
  });

  test('tagging a ticket fires the trigger: one signed webhook, the request tag swapped for the guard tag', async () => {
    const received: Array<{ headers: http.IncomingHttpHeaders; body: string }> = [];
    const receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    try {
      const secret = 'dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==';
      const webhook = await createWebhook({
        endpoint: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhook`,
        signing_secret: { algorithm: 'sha256', secret },
      });
      await call(sandbox, 'POST', '/api/v2/triggers', { body: { trigger: projectTrigger(webhook.id) } });
      const t = sandbox.createTicket({ tags: ['vip'] });

      const after = sandbox.agentUpdate(t.id, { addTags: ['archive_attachments'] });
      await sandbox.settleWebhooks();

      expect(after.tags).toEqual(['vip', 'attachments_archive_requested']);
      expect(received).toHaveLength(1);
      const delivery = received[0] as (typeof received)[number];
      expect(JSON.parse(delivery.body)).toEqual({ ticket_id: String(t.id), updated_at: after.updated_at });
      const timestamp = delivery.headers['x-zendesk-webhook-signature-timestamp'] as string;
      expect(timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      const expected = createHmac('sha256', secret).update(timestamp + delivery.body).digest('base64');
      expect(delivery.headers['x-zendesk-webhook-signature']).toBe(expected);
      expect(delivery.headers['x-zendesk-webhook-id']).toBe(webhook.id);
      expect(sandbox.webhookDeliveries.at(-1)).toMatchObject({ webhookId: webhook.id, ticketId: t.id, status: 202 });

      // Later updates (the workflow's own tag writes) do not match again.
      await call(sandbox, 'PUT', `/api/v2/tickets/${t.id}/tags`, { body: { tags: ['vault_processing'] } });
      await sandbox.settleWebhooks();
      expect(received).toHaveLength(1);
    } finally {
      await new Promise<void>((r) => receiver.close(() => r()));
    }
  });
});
