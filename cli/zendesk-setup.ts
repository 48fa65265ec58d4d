import { GetSecretValueCommand, PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type {
  TriggerAction,
  TriggerCondition,
  TriggerFields,
  WebhookFields,
  ZendeskAdminApi,
  ZendeskTrigger,
  ZendeskWebhook,
} from './zendesk-admin.js';
import { UsageError } from './output.js';

/**
 * `attachment-vault zendesk setup`: the webhook and the trigger that start the workflow (docs/zendesk.md#webhooks-and-triggers), created
 * or brought back to the desired state, found by a stable name so a second run changes nothing. The webhook's
 * signing secret is stored in Secrets Manager (what the stack's WEBHOOK_SECRET_ARN points at), printed for local use,
 * or left unrevealed.
 */

export const WEBHOOK_NAME = 'attachment-vault';
export const TRIGGER_TITLE = 'attachment-vault: archive attachments when tagged';
/**
 * The ticket ID and the update's timestamp only: free-text placeholders can break the JSON body
 * (docs/zendesk.md#webhooks-and-triggers). The timestamp makes two requests for one ticket two different signed
 * deliveries, so that the webhook's replay check (the signed content) never takes a new request for a replay.
 */
export const WEBHOOK_BODY = '{"ticket_id":"{{ticket.id}}","updated_at":"{{ticket.updated_at_with_timestamp}}"}';
/** Stands for the webhook's ID in a dry-run plan when the webhook does not exist yet. */
export const NEW_WEBHOOK_ID = '<id of the new webhook>';

export interface SetupOptions {
  webhookUrl: string;
  dryRun?: boolean;
  /** Secrets Manager secret ID or ARN to store `{"secret": "..."}` in. */
  secretId?: string;
  printSecret?: boolean;
  requestTag: string;
  processingTag: string;
}

export interface SetupDeps {
  admin: ZendeskAdminApi;
  /** Needed with secretId only. */
  secretsManager?: SecretsManagerClient;
  /** Progress lines for the operator (stderr). */
  log?: (line: string) => void;
}

export type PlanAction = 'create' | 'update' | 'unchanged';
export type DoneAction = 'created' | 'updated' | 'unchanged';
export type Changes = Record<string, { from?: unknown; to: unknown }>;

export interface ResourceReport {
  id: string | number | null;
  action: PlanAction | DoneAction;
  /** Field by field, what differs from the desired state (every field for a create). */
  changes?: Changes;
}

export interface SetupReport {
  dryRun?: true;
  webhook: ResourceReport;
  trigger: ResourceReport;
  secret: 'stored' | 'printed' | 'not revealed' | 'would be stored' | 'would be printed';
  /** With --secret-id: whether the stored value had to change. */
  secretAction?: 'updated' | 'unchanged';
  signingSecret?: string;
}

export class SetupConflict extends Error {
  override readonly name = 'SetupConflict';
}

const TAG = /^[\p{L}\p{N}_\-:/.]+$/u;

export function validateSetupOptions(options: SetupOptions): void {
  let url: URL;
  try {
    url = new URL(options.webhookUrl);
  } catch {
    throw new UsageError('--webhook-url must be an absolute http(s) URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UsageError('--webhook-url must be an http(s) URL');
  if (url.username || url.password) throw new UsageError('--webhook-url must not carry credentials');
  for (const [flag, tag] of [
    ['--request-tag', options.requestTag],
    ['--processing-tag', options.processingTag],
  ] as const) {
    if (!TAG.test(tag)) throw new UsageError(`${flag} must be one Zendesk tag (letters, digits, _ - : / .; no spaces)`);
  }
  if (options.requestTag.toLowerCase() === options.processingTag.toLowerCase()) {
    throw new UsageError('--request-tag and --processing-tag must differ');
  }
  if (options.secretId !== undefined && options.printSecret) throw new UsageError('use either --secret-id or --print-secret, not both');
  if (options.secretId !== undefined && !options.secretId.trim()) throw new UsageError('--secret-id needs a secret name or ARN');
}

export function desiredWebhook(webhookUrl: string): WebhookFields {
  return {
    name: WEBHOOK_NAME,
    description: 'Starts the attachment-vault workflow for a ticket (signed). Managed by `attachment-vault zendesk setup`.',
    status: 'active',
    endpoint: webhookUrl,
    http_method: 'POST',
    request_format: 'json',
    subscriptions: ['conditional_ticket_events'],
  };
}

/**
 * Fires on ticket creation and on every update (no update_type condition: a ticket created with the tag must
 * start the workflow too) while the request tag is present and the ticket is not already being processed; it
 * removes the request tag in the same update, so it cannot fire twice for one request.
 */
export function desiredTrigger(webhookId: string, tags: { requestTag: string; processingTag: string }): TriggerFields {
  return {
    title: TRIGGER_TITLE,
    description: `Sends the ticket ID to the attachment-vault webhook when an agent adds the ${tags.requestTag} tag. Managed by \`attachment-vault zendesk setup\`.`,
    active: true,
    conditions: {
      all: [
        { field: 'current_tags', operator: 'includes', value: tags.requestTag },
        { field: 'current_tags', operator: 'not_includes', value: tags.processingTag },
      ],
      any: [],
    },
    actions: [
      { field: 'notification_webhook', value: [webhookId, WEBHOOK_BODY] },
      { field: 'remove_tags', value: tags.requestTag },
    ],
  };
}

const WEBHOOK_FIELDS = ['name', 'description', 'status', 'endpoint', 'http_method', 'request_format', 'subscriptions'] as const;

export function webhookChanges(current: ZendeskWebhook | undefined, desired: WebhookFields): Changes {
  const changes: Changes = {};
  for (const field of WEBHOOK_FIELDS) {
    const want = desired[field];
    if (!current) {
      changes[field] = { to: want };
      continue;
    }
    const have = current[field];
    const same =
      field === 'http_method' ? String(have).toUpperCase() === String(want).toUpperCase() : JSON.stringify(have ?? null) === JSON.stringify(want ?? null);
    if (!same) changes[field] = { from: have ?? null, to: want };
  }
  return changes;
}

const TAG_FIELDS = new Set(['current_tags', 'remove_tags', 'set_tags']);

/** A condition or action as a comparable string: tag lists sorted, scalars as strings (Zendesk may echo `1` as "1"). */
function canonical(item: TriggerCondition | TriggerAction): string {
  const raw = item.value;
  let value: unknown;
  if (TAG_FIELDS.has(item.field)) {
    const list = Array.isArray(raw) ? raw.map(String) : String(raw ?? '').split(/\s+/);
    value = list.filter(Boolean).sort().join(' ');
  } else if (Array.isArray(raw)) {
    value = raw.map((v) => String(v));
  } else {
    value = raw === undefined || raw === null ? null : String(raw);
  }
  return JSON.stringify(['operator' in item ? item.operator : '', item.field, value]);
}

function sameSet(a: ReadonlyArray<TriggerCondition | TriggerAction>, b: ReadonlyArray<TriggerCondition | TriggerAction>): boolean {
  const x = a.map(canonical).sort();
  const y = b.map(canonical).sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

export function triggerChanges(current: ZendeskTrigger | undefined, desired: TriggerFields): Changes {
  if (!current) {
    return Object.fromEntries(Object.entries(desired).map(([field, to]) => [field, { to }]));
  }
  const changes: Changes = {};
  if (current.title !== desired.title) changes.title = { from: current.title, to: desired.title };
  if ((current.description ?? null) !== desired.description) changes.description = { from: current.description, to: desired.description };
  if (current.active !== desired.active) changes.active = { from: current.active, to: desired.active };
  if (!sameSet(current.conditions.all, desired.conditions.all) || !sameSet(current.conditions.any, desired.conditions.any)) {
    changes.conditions = { from: current.conditions, to: desired.conditions };
  }
  if (!sameSet(current.actions, desired.actions)) changes.actions = { from: current.actions, to: desired.actions };
  return changes;
}

function oneOf<T extends { id: string | number }>(found: T[], what: string, log: (line: string) => void): T | undefined {
  if (found.length > 1) log(`warning: ${found.length} ${what} share the name; managing the first (id ${found[0]!.id}) and leaving the others alone`);
  return found[0];
}

function planOf(exists: boolean, changes: Changes): PlanAction {
  if (!exists) return 'create';
  return Object.keys(changes).length ? 'update' : 'unchanged';
}

const DONE: Record<PlanAction, DoneAction> = { create: 'created', update: 'updated', unchanged: 'unchanged' };

function report(id: string | number | null, action: PlanAction | DoneAction, changes: Changes): ResourceReport {
  return { id, action, ...(Object.keys(changes).length ? { changes } : {}) };
}

/** Stores `{"secret": ...}` unless the secret already holds exactly that (a second run adds no version). */
async function storeSecret(client: SecretsManagerClient, secretId: string, secret: string): Promise<'updated' | 'unchanged'> {
  try {
    const current = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    const stored = current.SecretString ? (JSON.parse(current.SecretString) as { secret?: unknown }) : undefined;
    if (stored?.secret === secret) return 'unchanged';
  } catch (error) {
    const name = error instanceof Error ? error.name : '';
    if (name === 'ResourceNotFoundException') {
      throw new SetupConflict(`secret ${secretId} does not exist: pass the stack's WebhookSecretArn output to --secret-id`);
    }
    // Not JSON, no readable version yet, or no permission to read it back: write anyway.
  }
  try {
    await client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: JSON.stringify({ secret }) }));
  } catch (error) {
    const name = error instanceof Error ? error.name : 'Error';
    // The SDK's message names the secret and the action, never the value.
    const message = error instanceof Error ? error.message : String(error);
    throw new SetupConflict(`could not store the signing secret in ${secretId} (${name}: ${message})`);
  }
  return 'updated';
}

export async function zendeskSetup(options: SetupOptions, deps: SetupDeps): Promise<SetupReport> {
  validateSetupOptions(options);
  const log = deps.log ?? (() => undefined);
  const { admin } = deps;
  if (options.secretId !== undefined && !deps.secretsManager && !options.dryRun) throw new Error('zendeskSetup: secretsManager is required with secretId');

  // Webhook.
  const webhookWanted = desiredWebhook(options.webhookUrl);
  const existingWebhook = oneOf(await admin.findWebhooks(WEBHOOK_NAME), 'webhooks', log);
  if (existingWebhook && !existingWebhook.subscriptions.includes('conditional_ticket_events')) {
    throw new SetupConflict(
      `webhook "${WEBHOOK_NAME}" (${existingWebhook.id}) subscribes to Zendesk events, and a webhook's connection mode cannot be changed: delete or rename it, then run setup again`,
    );
  }
  const webhookDiff = webhookChanges(existingWebhook, webhookWanted);
  const webhookPlan = planOf(existingWebhook !== undefined, webhookDiff);

  // Trigger (points at the webhook's ID, which a create only reveals when it happens).
  const existingTrigger = oneOf(await admin.findTriggers(TRIGGER_TITLE), 'triggers', log);
  const tags = { requestTag: options.requestTag, processingTag: options.processingTag };

  if (options.dryRun) {
    const webhookId = existingWebhook?.id ?? NEW_WEBHOOK_ID;
    const triggerDiff = triggerChanges(existingTrigger, desiredTrigger(webhookId, tags));
    const plan: SetupReport = {
      dryRun: true,
      webhook: report(existingWebhook?.id ?? null, webhookPlan, webhookDiff),
      trigger: report(existingTrigger?.id ?? null, planOf(existingTrigger !== undefined, triggerDiff), triggerDiff),
      secret: options.secretId !== undefined ? 'would be stored' : options.printSecret ? 'would be printed' : 'not revealed',
    };
    log(`dry run: webhook ${plan.webhook.action}, trigger ${plan.trigger.action}; nothing was changed`);
    return plan;
  }

  let webhookId: string;
  if (!existingWebhook) {
    webhookId = (await admin.createWebhook(webhookWanted)).id;
  } else {
    webhookId = existingWebhook.id;
    if (webhookPlan === 'update') {
      const patch = Object.fromEntries(Object.keys(webhookDiff).map((field) => [field, webhookWanted[field as keyof WebhookFields]]));
      await admin.updateWebhook(webhookId, patch as Partial<WebhookFields>);
    }
  }
  log(`webhook "${WEBHOOK_NAME}" ${DONE[webhookPlan]} (${webhookId})`);

  const triggerWanted = desiredTrigger(webhookId, tags);
  const triggerDiff = triggerChanges(existingTrigger, triggerWanted);
  const triggerPlan = planOf(existingTrigger !== undefined, triggerDiff);
  let triggerId: number;
  if (!existingTrigger) triggerId = (await admin.createTrigger(triggerWanted)).id;
  else {
    triggerId = existingTrigger.id;
    if (triggerPlan === 'update') await admin.updateTrigger(triggerId, triggerWanted);
  }
  log(`trigger "${TRIGGER_TITLE}" ${DONE[triggerPlan]} (${triggerId})`);

  const result: SetupReport = {
    // A create's "changes" would only repeat the desired state: the dry run shows it.
    webhook: report(webhookId, DONE[webhookPlan], webhookPlan === 'create' ? {} : webhookDiff),
    trigger: report(triggerId, DONE[triggerPlan], triggerPlan === 'create' ? {} : triggerDiff),
    secret: 'not revealed',
  };
  if (options.secretId !== undefined || options.printSecret) {
    const secret = await admin.webhookSigningSecret(webhookId);
    if (options.secretId !== undefined) {
      result.secret = 'stored';
      result.secretAction = await storeSecret(deps.secretsManager!, options.secretId, secret);
      log(`signing secret ${result.secretAction === 'unchanged' ? 'already stored' : 'stored'} in ${options.secretId}`);
    } else {
      result.secret = 'printed';
      result.signingSecret = secret;
      log('signing secret printed: set it as ZENDESK_WEBHOOK_SECRET for `attachment-vault serve`, and keep it out of logs');
    }
  }
  return result;
}
