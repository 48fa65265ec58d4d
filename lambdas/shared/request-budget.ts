import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { requestBudgetSettings, type Env, type RequestBudgetSettings } from './config.js';
import { StateStoreUnavailable, ZendeskRateLimited } from './errors.js';
import { logger } from './logger.js';
import { countBudget } from './metrics.js';
import { currentTraffic, type Traffic } from './traffic.js';

/**
 * One Zendesk request budget for every function, live and backfill: per-window counters in DynamoDB
 * (ZENDESK_BUDGET_TABLE) taken from with one atomic conditional UpdateItem each, so that all the Lambdas of a
 * deployment together stay under the account's per-minute limit instead of each discovering it with a 429.
 *
 * - Time is cut into windows of WINDOW_SECONDS (10 s). A window of `all` allows the account's limit for that slice
 *   (ZENDESK_REQUESTS_PER_MINUTE, else the limit Zendesk last reported in `x-rate-limit` / `ratelimit-limit`, else
 *   200, the smallest plan's) × 10/60; no calendar minute (Zendesk counts per minute) then gets more than the limit,
 *   and no burst of a whole minute's requests lands in its first second.
 * - A window of `backfill` allows BACKFILL_SHARE (default 0.5) of that: a backfill request counts in both, so the
 *   backfill never holds more than its share and a live ticket tagged meanwhile still finds requests.
 * - A take is `ADD used 1` on the window's item with the condition `used < cap`: DynamoDB applies it atomically, so
 *   any number of concurrent takers need no read and no retry loop (a read-modify-write bucket made 16 concurrent
 *   takers lose a fifth of their takes to write conflicts). Items expire (TTL `expiresAt`) an hour after their window.
 * - Zendesk's own headers correct it: `ratelimit-remaining` / `x-rate-limit-remaining` below 5 % of the limit fills
 *   the current window; the account's own 429 (isAccountLimit) fills every window until its Retry-After has passed.
 * - Cumulative counts per traffic class (`budget#taken`: live, backfill, refused…) feed `backfill status`.
 * A request that finds no room is not sent: ZendeskRateLimited with the seconds until a random moment of the next window
 * (fromBudget),
 * which the steps turn into a Wait state (waits.ts) rather than a sleeping Lambda.
 */

export interface RequestBudget {
  /** Takes one request for the current traffic, or throws ZendeskRateLimited (fromBudget) with the wait. */
  take(): Promise<void>;
  /** What Zendesk's answer says of the account's budget (limit, remaining, Retry-After on 429). */
  observe(status: number, headers: Headers): Promise<void>;
}

/** A budget refusal: the request was never sent. Same name (the ASL's vocabulary), so every step handles it alike. */
export class BudgetExhausted extends ZendeskRateLimited {
  readonly fromBudget = true;
}

export const BUDGET_KEY = 'id';
/** The TTL attribute of the window items (the table's TimeToLiveSpecification). */
export const BUDGET_TTL_ATTRIBUTE = 'expiresAt';
export const WINDOW_SECONDS = 10;
/** The item of cumulative counts: `live`, `backfill` (requests taken), `liveRefused`, `backfillRefused`. */
export const BUDGET_TAKEN_ITEM = 'budget#taken';
const DEFAULT_REQUESTS_PER_MINUTE = 200;
/** Below this share of the limit left, Zendesk's remaining header closes the current window. */
const LOW_REMAINING_SHARE = 0.05;
/** The longest Retry-After the budget blocks windows for (a longer one is still waited by the step that got it). */
const MAX_BLOCK_SECONDS = 600;

/** `budget#all#<window start, epoch s>` */
export function windowItemId(scope: 'all' | Traffic, windowStart: number): string {
  return `budget#${scope === 'live' ? 'all' : scope}#${windowStart}`;
}

function headerNumber(headers: Headers, ...names: string[]): number | undefined {
  for (const name of names) {
    const value = Number(headers.get(name));
    if (headers.get(name) !== null && Number.isFinite(value) && value >= 0) return value;
  }
  return undefined;
}

/** Raises the window's count to at least `to` (never lowers it): Zendesk says there is less than we think. */
async function fill(doc: DynamoDBDocumentClient, table: string, windowStart: number, to: number): Promise<void> {
  try {
    await doc.send(
      new UpdateCommand({
        TableName: table,
        Key: { [BUDGET_KEY]: windowItemId('all', windowStart) },
        UpdateExpression: 'SET #used = :to, #exp = if_not_exists(#exp, :exp)',
        ConditionExpression: 'attribute_not_exists(#used) OR #used < :to',
        ExpressionAttributeNames: { '#used': 'used', '#exp': BUDGET_TTL_ATTRIBUTE },
        ExpressionAttributeValues: { ':to': to, ':exp': windowStart + WINDOW_SECONDS + 3600 },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}

/** The cumulative counts; a failure here never fails a request. */
async function count(doc: DynamoDBDocumentClient, table: string, name: string): Promise<void> {
  await doc
    .send(new UpdateCommand({ TableName: table, Key: { [BUDGET_KEY]: BUDGET_TAKEN_ITEM }, UpdateExpression: 'ADD #n :one', ExpressionAttributeNames: { '#n': name }, ExpressionAttributeValues: { ':one': 1 } }))
    .catch((error: unknown) => logger.warn('Zendesk request budget: count not recorded', { error: error instanceof Error ? error.name : 'Error' }));
}

export function dynamoRequestBudget(doc: DynamoDBDocumentClient, table: string, settings: RequestBudgetSettings, now: () => number = Date.now): RequestBudget {
  let observedLimit: number | undefined;
  const perMinute = () => settings.requestsPerMinute ?? observedLimit ?? DEFAULT_REQUESTS_PER_MINUTE;
  const capOf = (scope: 'all' | 'backfill') => Math.max(1, Math.floor((perMinute() * (scope === 'backfill' ? settings.backfillShare : 1) * WINDOW_SECONDS) / 60));
  const windowOf = (at: number) => Math.floor(at / 1000 / WINDOW_SECONDS) * WINDOW_SECONDS;

  /** ADD `by` to the window's count if it stays within `cap`; false when the window is full. */
  async function add(scope: 'all' | 'backfill', windowStart: number, by: number, cap?: number): Promise<boolean> {
    try {
      await doc.send(
        new UpdateCommand({
          TableName: table,
          Key: { [BUDGET_KEY]: windowItemId(scope, windowStart) },
          UpdateExpression: 'ADD #used :by SET #exp = if_not_exists(#exp, :exp)',
          ...(cap !== undefined ? { ConditionExpression: 'attribute_not_exists(#used) OR #used < :cap' } : {}),
          ExpressionAttributeNames: { '#used': 'used', '#exp': BUDGET_TTL_ATTRIBUTE },
          ExpressionAttributeValues: { ':by': by, ':exp': windowStart + WINDOW_SECONDS + 3600, ...(cap !== undefined ? { ':cap': cap } : {}) },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async function refuse(traffic: Traffic, at: number, windowStart: number): Promise<never> {
    const wait = (windowStart + WINDOW_SECONDS) * 1000 - at;
    countBudget('refused');
    await count(doc, table, `${traffic}Refused`);
    // Spread over the next window: every refused step waking at its first second would find it full again.
    const spread = Math.floor(Math.random() * WINDOW_SECONDS);
    throw new BudgetExhausted(`Zendesk request budget: ${traffic} traffic has no request left for ${(wait / 1000).toFixed(1)} s`, Math.max(1, Math.ceil(wait / 1000)) + spread);
  }

  async function take(traffic: Traffic): Promise<void> {
    const at = now();
    const windowStart = windowOf(at);
    try {
      if (traffic === 'backfill' && !(await add('backfill', windowStart, 1, capOf('backfill')))) await refuse(traffic, at, windowStart);
      if (!(await add('all', windowStart, 1, capOf('all')))) {
        // The backfill's share had room but the whole window has not: give the share back.
        if (traffic === 'backfill') await add('backfill', windowStart, -1);
        await refuse(traffic, at, windowStart);
      }
    } catch (error) {
      if (error instanceof ZendeskRateLimited) throw error;
      throw new StateStoreUnavailable(`Zendesk request budget: DynamoDB failed (${error instanceof Error ? error.name : 'Error'})`);
    }
    countBudget('used');
    await count(doc, table, traffic);
  }

  return {
    take: () => take(currentTraffic()),
    async observe(status, headers) {
      const limit = headerNumber(headers, 'ratelimit-limit', 'x-rate-limit');
      if (limit !== undefined && limit > 0) observedLimit = limit;
      const remaining = headerNumber(headers, 'ratelimit-remaining', 'x-rate-limit-remaining');
      const at = now();
      try {
        if (status === 429 && isAccountLimit(remaining)) {
          // Nothing until Retry-After has passed: every window until then is full.
          const seconds = Math.min(MAX_BLOCK_SECONDS, headerNumber(headers, 'retry-after') ?? 60);
          for (let w = windowOf(at); w < at / 1000 + seconds; w += WINDOW_SECONDS) await fill(doc, table, w, capOf('all'));
        } else if (remaining !== undefined && remaining < perMinute() * LOW_REMAINING_SHARE) {
          // Others (another integration, the Zendesk UI) use the account too: believe Zendesk when it is running low.
          await fill(doc, table, windowOf(at), capOf('all'));
        }
      } catch (error) {
        logger.warn('Zendesk request budget not corrected', { error: error instanceof Error ? error.name : 'Error' });
      }
    },
  };
}

/** The cumulative counts of the budget (`backfill status`): requests taken and refused per traffic class. */
export async function budgetTaken(doc: DynamoDBDocumentClient, table: string): Promise<Record<'live' | 'backfill' | 'liveRefused' | 'backfillRefused', number>> {
  const item = (await doc.send(new GetCommand({ TableName: table, Key: { [BUDGET_KEY]: BUDGET_TAKEN_ITEM }, ConsistentRead: true }))).Item ?? {};
  const n = (name: string) => (typeof item[name] === 'number' ? (item[name] as number) : 0);
  return { live: n('live'), backfill: n('backfill'), liveRefused: n('liveRefused'), backfillRefused: n('backfillRefused') };
}

/**
 * Whether a 429 is the account's per-minute limit: only when Zendesk's account header says nothing is left. Zendesk
 * sends its account headers on every API answer; the per-ticket update limit (30 per 10 minutes) answers 429 too, with
 * the account's remaining still above 0, and a 429 without account headers (an edge in between) says nothing of the
 * account. Either way the step that got the 429 waits its Retry-After itself; only the account's own refusal stops
 * every other function too.
 */
export function isAccountLimit(remaining: number | undefined): boolean {
  return remaining !== undefined && remaining < 1;
}

let cached: { table: string; budget: RequestBudget } | undefined;

/** The budget of this deployment (ZENDESK_BUDGET_TABLE), or none when the table is not configured (unit tests). */
export function requestBudgetFromEnv(env: Env = process.env): RequestBudget | undefined {
  const settings = requestBudgetSettings(env);
  if (!settings.table) return undefined;
  if (cached?.table !== settings.table) {
    const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
    cached = { table: settings.table, budget: dynamoRequestBudget(doc, settings.table, settings) };
  }
  return cached.budget;
}
