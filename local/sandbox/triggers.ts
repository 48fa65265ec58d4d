import { param, type Exchange, type SandboxContext } from './context.js';
import { asObject, isoSeconds, json, zendeskError, type Reply } from './http.js';
import { AGENT_USER_ID, normaliseTags, TICKET_STATUSES, type TicketRecord, type TicketStatus, type ZendeskStore } from './store.js';
import type { WebhookRecord, WebhookRegistry } from './webhooks.js';

/**
 * Ticket triggers (/api/v2/triggers): CRUD after the shapes of Zendesk's OpenAPI description, and a small engine that runs them after
 * every ticket update. Supported conditions: update_type, current_tags (includes / not_includes), status.
 * Supported actions: notification_webhook, current_tags (add), remove_tags, set_tags, status. Anything else
 * never matches / does nothing (third-party-confirmed names only, docs/zendesk.md#webhooks-and-triggers).
 */

export interface TriggerCondition {
  field: string;
  operator: string;
  value?: unknown;
}

export interface TriggerAction {
  field: string;
  value: unknown;
}

export interface TriggerRecord {
  id: number;
  title: string;
  description: string | null;
  active: boolean;
  position: number;
  conditions: { all: TriggerCondition[]; any: TriggerCondition[] };
  actions: TriggerAction[];
  category_id: string | null;
  created_at: string;
  updated_at: string;
}

export interface TriggerFiring {
  triggerId: number;
  ticketId: number;
  at: string;
}

function tagList(value: unknown): string[] {
  if (Array.isArray(value)) return normaliseTags(value.map(String));
  return typeof value === 'string' ? normaliseTags(value.split(/\s+/)) : [];
}

function statusRank(status: unknown): number {
  return TICKET_STATUSES.indexOf(String(status) as TicketStatus);
}

function holds(c: TriggerCondition, ticket: TicketRecord, updateType: 'Create' | 'Change'): boolean {
  switch (c.field) {
    case 'update_type':
      return c.operator === 'is_not' ? c.value !== updateType : c.operator === 'is' && c.value === updateType;
    case 'current_tags': {
      const present = tagList(c.value).some((t) => ticket.tags.includes(t));
      if (c.operator === 'includes') return present;
      if (c.operator === 'not_includes') return !present;
      return false;
    }
    case 'status': {
      const have = statusRank(ticket.status);
      const want = statusRank(c.value);
      if (want < 0) return false;
      if (c.operator === 'is') return have === want;
      if (c.operator === 'is_not') return have !== want;
      if (c.operator === 'less_than') return have < want;
      if (c.operator === 'greater_than') return have > want;
      return false;
    }
    default:
      return false;
  }
}

function render(template: string, ticket: TicketRecord, api: string): string {
  return template.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (_m, name: string) => {
    switch (name) {
      case 'ticket.id':
        return String(ticket.id);
      case 'ticket.updated_at_with_timestamp':
        return isoSeconds(ticket.updatedAt);
      case 'ticket.created_at_with_timestamp':
        return isoSeconds(ticket.createdAt);
      case 'ticket.updated_at':
        return new Date(ticket.updatedAt).toLocaleDateString('en-US', {
          month: 'long',
          day: 'numeric',
          year: 'numeric',
          timeZone: 'UTC',
        });
      case 'ticket.status':
        return ticket.status.charAt(0).toUpperCase() + ticket.status.slice(1);
      case 'ticket.tags':
        return ticket.tags.join(' ');
      case 'ticket.title':
        return ticket.subject;
      case 'ticket.url':
        return `${new URL(api).host}/agent/tickets/${ticket.id}`;
      case 'current_user.id':
        return String(AGENT_USER_ID);
      default:
        return '';
    }
  });
}

export class TriggerRegistry {
  readonly triggers = new Map<number, TriggerRecord>();
  readonly firings: TriggerFiring[] = [];

  view(t: TriggerRecord, api: string): Record<string, unknown> {
    return {
      url: `${api}/api/v2/triggers/${t.id}.json`,
      id: t.id,
      title: t.title,
      raw_title: t.title,
      description: t.description,
      active: t.active,
      position: t.position,
      default: false,
      conditions: { all: [...t.conditions.all], any: [...t.conditions.any] },
      actions: [...t.actions],
      category_id: t.category_id,
      created_at: t.created_at,
      updated_at: t.updated_at,
    };
  }

  /**
   * Runs active triggers by position after an update: each fires at most once, and the pass restarts after
   * every firing (Zendesk's trigger cycle). Tag and status actions join the same update; webhooks are sent
   * afterwards, rendered from the final ticket. Closed tickets run no triggers.
   */
  run(ticket: TicketRecord, updateType: 'Create' | 'Change', store: ZendeskStore, webhooks: WebhookRegistry, api: string): void {
    if (ticket.status === 'closed' || ticket.deleted) return;
    const ordered = [...this.triggers.values()].filter((t) => t.active).sort((a, b) => a.position - b.position || a.id - b.id);
    const fired = new Set<number>();
    const notifications: Array<{ webhook: WebhookRecord; template: string }> = [];
    for (let again = true; again; ) {
      again = false;
      for (const trigger of ordered) {
        if (fired.has(trigger.id)) continue;
        const { all, any } = trigger.conditions;
        const match = all.every((c) => holds(c, ticket, updateType)) && (any.length === 0 || any.some((c) => holds(c, ticket, updateType)));
        if (!match) continue;
        fired.add(trigger.id);
        this.firings.push({ triggerId: trigger.id, ticketId: ticket.id, at: isoSeconds(store.clock.now()) });
        for (const action of trigger.actions) {
          if (action.field === 'current_tags') ticket.tags = normaliseTags([...ticket.tags, ...tagList(action.value)]);
          else if (action.field === 'remove_tags') ticket.tags = ticket.tags.filter((t) => !tagList(action.value).includes(t));
          else if (action.field === 'set_tags') ticket.tags = tagList(action.value);
          else if (action.field === 'status' && statusRank(action.value) >= 0) ticket.status = action.value as TicketStatus;
          else if (action.field === 'notification_webhook' && Array.isArray(action.value)) {
            const webhook = webhooks.webhooks.get(String(action.value[0]));
            if (webhook) notifications.push({ webhook, template: String(action.value[1] ?? '') });
          }
        }
        again = true;
        break;
      }
    }
    for (const { webhook, template } of notifications) webhooks.deliver(webhook, render(template, ticket, api), ticket.id);
  }
}

type Input = Record<string, unknown>;

function conditionList(value: unknown): TriggerCondition[] | undefined {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return undefined;
  const out: TriggerCondition[] = [];
  for (const item of value) {
    const c = asObject(item);
    if (!c || typeof c.field !== 'string' || typeof c.operator !== 'string') return undefined;
    out.push({ field: c.field, operator: c.operator, value: c.value });
  }
  return out;
}

/** Validates trigger fields; `existing` present for an update (fields then optional). */
function readTrigger(input: Input, webhooks: WebhookRegistry, existing?: TriggerRecord): Partial<TriggerRecord> | Reply {
  const out: Partial<TriggerRecord> = {};
  if (input.title !== undefined || !existing) {
    if (typeof input.title !== 'string' || input.title.trim() === '') return zendeskError.recordInvalid('title', 'Title: cannot be blank');
    out.title = input.title;
  }
  const conditions = asObject(input.conditions);
  if (conditions || input.all !== undefined || input.any !== undefined || !existing) {
    const all = conditionList(conditions ? conditions.all : input.all);
    const any = conditionList(conditions ? conditions.any : input.any);
    if (!all || !any) return zendeskError.recordInvalid('conditions', 'Conditions: must be {all:[...], any:[...]} of {field, operator, value}');
    if (all.length + any.length === 0) return zendeskError.recordInvalid('conditions', 'Conditions: cannot be empty');
    out.conditions = { all, any };
  }
  if (input.actions !== undefined || !existing) {
    const actions = input.actions;
    if (!Array.isArray(actions) || actions.length === 0) return zendeskError.recordInvalid('actions', 'Actions: cannot be empty');
    const list: TriggerAction[] = [];
    for (const item of actions) {
      const a = asObject(item);
      if (!a || typeof a.field !== 'string') return zendeskError.recordInvalid('actions', 'Actions: each needs a field and a value');
      if (a.field === 'notification_webhook') {
        const value = a.value;
        const webhook = Array.isArray(value) ? webhooks.webhooks.get(String(value[0])) : undefined;
        if (!Array.isArray(value) || value.length !== 2 || typeof value[1] !== 'string') {
          return zendeskError.recordInvalid('actions', 'notification_webhook: value must be [webhook_id, body]');
        }
        if (!webhook || !webhook.subscriptions.includes('conditional_ticket_events')) {
          return zendeskError.recordInvalid('actions', 'notification_webhook: unknown webhook, or not connected to triggers');
        }
      }
      list.push({ field: a.field, value: a.value });
    }
    out.actions = list;
  }
  if (input.active !== undefined) out.active = input.active === true || input.active === 'true';
  if (input.description !== undefined) out.description = input.description === null ? null : String(input.description);
  if (input.position !== undefined && Number.isInteger(Number(input.position))) out.position = Number(input.position);
  if (input.category_id !== undefined) out.category_id = input.category_id === null ? null : String(input.category_id);
  return out;
}

function isReply(value: unknown): value is Reply {
  return typeof value === 'object' && value !== null && 'status' in value && typeof (value as Reply).status === 'number';
}

export function listTriggers(ctx: SandboxContext, ex: Exchange): Reply {
  const active = ex.url.searchParams.get('active');
  const triggers = [...ctx.triggers.triggers.values()]
    .filter((t) => (active === null ? true : String(t.active) === active))
    .sort((a, b) => a.position - b.position || a.id - b.id)
    .map((t) => ctx.triggers.view(t, ctx.api));
  return json(200, { triggers, count: triggers.length, next_page: null, previous_page: null });
}

export async function createTrigger(ctx: SandboxContext, ex: Exchange): Promise<Reply> {
  const input = asObject((await ex.body()).trigger);
  if (!input) return zendeskError.badRequest('The body must be {"trigger":{...}}');
  const fields = readTrigger(input, ctx.webhooks);
  if (isReply(fields)) return fields;
  const now = isoSeconds(ctx.store.clock.now());
  const trigger: TriggerRecord = {
    id: ctx.store.nextId(),
    title: fields.title as string,
    description: fields.description ?? null,
    active: fields.active ?? true,
    position: fields.position ?? ctx.triggers.triggers.size + 1,
    conditions: fields.conditions as TriggerRecord['conditions'],
    actions: fields.actions as TriggerAction[],
    category_id: fields.category_id ?? null,
    created_at: now,
    updated_at: now,
  };
  ctx.triggers.triggers.set(trigger.id, trigger);
  return json(201, { trigger: ctx.triggers.view(trigger, ctx.api) }, { location: `${ctx.api}/api/v2/triggers/${trigger.id}.json` });
}

export function showTrigger(ctx: SandboxContext, ex: Exchange): Reply {
  const trigger = ctx.triggers.triggers.get(param(ex, 0));
  return trigger ? json(200, { trigger: ctx.triggers.view(trigger, ctx.api) }) : zendeskError.notFound();
}

export async function updateTrigger(ctx: SandboxContext, ex: Exchange): Promise<Reply> {
  const trigger = ctx.triggers.triggers.get(param(ex, 0));
  if (!trigger) return zendeskError.notFound();
  const input = asObject((await ex.body()).trigger);
  if (!input) return zendeskError.badRequest('The body must be {"trigger":{...}}');
  const fields = readTrigger(input, ctx.webhooks, trigger);
  if (isReply(fields)) return fields;
  Object.assign(trigger, fields, { updated_at: isoSeconds(ctx.store.clock.now()) });
  return json(200, { trigger: ctx.triggers.view(trigger, ctx.api) });
}

export function deleteTrigger(ctx: SandboxContext, ex: Exchange): Reply {
  const id = param(ex, 0);
  if (!ctx.triggers.triggers.delete(id)) return zendeskError.notFound();
  return { status: 204 };
}
