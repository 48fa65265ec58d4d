import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { requestBudgetSettings, type Env, type RequestBudgetSettings } from './config.js';
import { StateStoreUnavailable, ZendeskRateLimited } from './errors.js';
import { logger } from './logger.js';
import { countBudget } from './metrics.js';
import { currentTraffic, type Traffic } from './traffic.js';

/**
 * One Zendesk request budget for every function, live and backfill: token buckets in DynamoDB (ZENDESK_BUDGET_TABLE),
 * taken from with conditional writes, so that all the Lambdas of a deployment together stay under the account's
 * per-minute limit instead of each discovering it with a 429.
 *
 * - `budget#all` refills at the account's limit: ZENDESK_REQUESTS_PER_MINUTE, else the limit Zendesk last reported
 *   (`x-rate-limit` / `ratelimit-limit`), else 200 (the smallest plan's). Every request takes a token from it. It holds
 *   at most 5 % of a minute's tokens and refills the other 95 % over the minute, so no minute of the clock (Zendesk
 *   counts per minute) ever gets more than the limit.
 * - `budget#backfill` refills at BACKFILL_SHARE of that (default 0.5): a backfill request takes a token from both, so
 *   the backfill never holds more than its share and a live ticket tagged meanwhile still finds tokens.
 * - Zendesk's own headers correct the bucket: `ratelimit-remaining` / `x-rate-limit-remaining` lower than the bucket
 *   thinks empties it down to that; a 429 of the account's limit (isAccountLimit: its remaining header at 0) empties
 *   it for its Retry-After; any other 429 (the per-ticket update limit) leaves it alone.
 * A request that finds no token is not sent: ZendeskRateLimited with the seconds until one is there (fromBudget), which
 * the steps turn into a Wait state (waits.ts) rather than a sleeping Lambda.
 */

export interface RequestBudget {
  /** Takes one token for the current traffic, or throws ZendeskRateLimited (fromBudget) with the wait. */
  take(): Promise<void>;
  /** What Zendesk's answer says of the account's budget (limit, remaining, Retry-After on 429). */
  observe(status: number, headers: Headers): Promise<void>;
}

/** A budget refusal: the request was never sent. Same name (the ASL's vocabulary), so every step handles it alike. */
export class BudgetExhausted extends ZendeskRateLimited {
  readonly fromBudget = true;
}

export const BUDGET_KEY = 'id';
export const BUDGET_ITEMS = { all: 'budget#all', backfill: 'budget#backfill' } as const;
const DEFAULT_REQUESTS_PER_MINUTE = 200;
const ATTEMPTS = 10;
/** Share of a minute's tokens a bucket may hold at once; the rest refills over the minute. */
export const BURST_SHARE = 0.05;

interface Bucket {
  tokens: number;
  /** Epoch ms of the last change: the refill runs from here. */
  updatedAt: number;
  /** Bumped by every write: the condition of the next one (two writes in the same millisecond stay apart). */
  version: number;
  /** The per-minute limit Zendesk reported (budget#all only). */
  limit?: number;
  /**
   * Tokens ever taken from this bucket, counted by the same conditional write that takes one (so never lost to a
   * race): what `backfill status` reads as the requests used. Corrections by Zendesk's headers leave it alone.
   */
  taken?: number;
}

function headerNumber(headers: Headers, ...names: string[]): number | undefined {
  for (const name of names) {
    const value = Number(headers.get(name));
    if (headers.get(name) !== null && Number.isFinite(value) && value >= 0) return value;
  }
  return undefined;
}

/** Writes a bucket's new level if nobody wrote it since it was read; false when someone did. */
async function writeBucket(doc: DynamoDBDocumentClient, table: string, id: string, bucket: Bucket | undefined, change: Partial<Bucket> & Pick<Bucket, 'tokens' | 'updatedAt'>): Promise<boolean> {
  try {
    await doc.send(
      new PutCommand({
        TableName: table,
        Item: { ...bucket, ...change, [BUDGET_KEY]: id, version: (bucket?.version ?? 0) + 1 },
        ConditionExpression: bucket ? 'version = :was' : 'attribute_not_exists(#k)',
        ...(bucket ? { ExpressionAttributeValues: { ':was': bucket.version ?? 0 } } : { ExpressionAttributeNames: { '#k': BUDGET_KEY } }),
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

export function dynamoRequestBudget(doc: DynamoDBDocumentClient, table: string, settings: RequestBudgetSettings, now: () => number = Date.now): RequestBudget {
  const read = async (id: string): Promise<Bucket | undefined> => (await doc.send(new GetCommand({ TableName: table, Key: { [BUDGET_KEY]: id }, ConsistentRead: true }))).Item as Bucket | undefined;
  let observedLimit: number | undefined;
  const rateOf = (id: string, all: Bucket | undefined): number => {
    const limit = settings.requestsPerMinute ?? all?.limit ?? observedLimit ?? DEFAULT_REQUESTS_PER_MINUTE;
    return id === BUDGET_ITEMS.backfill ? Math.max(1, limit * settings.backfillShare) : limit;
  };

  /** The bucket's tokens now, its capacity and its refill per minute. */
  const level = (id: string, bucket: Bucket | undefined, all: Bucket | undefined) => {
    const perMinute = rateOf(id, id === BUDGET_ITEMS.all ? bucket : all);
    const capacity = Math.max(1, perMinute * BURST_SHARE);
    const refill = perMinute - capacity;
    const at = now();
    const tokens = bucket ? Math.min(capacity, bucket.tokens + ((at - bucket.updatedAt) * refill) / 60_000) : capacity;
    return { tokens, refill, at };
  };

  /** One token from one bucket; the seconds to wait when there is none. */
  async function takeFrom(id: string, all: Bucket | undefined): Promise<number> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const bucket = id === BUDGET_ITEMS.all && attempt === 0 && all ? all : await read(id);
      const { tokens, refill, at } = level(id, bucket, all);
      if (tokens < 1) return ((1 - tokens) * 60) / refill;
      if (await writeBucket(doc, table, id, bucket, { tokens: tokens - 1, updatedAt: at, taken: (bucket?.taken ?? 0) + 1 })) return 0;
      // Another taker wrote first: a few milliseconds apart, try again.
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20));
    }
    return 0.2; // still contended: the step waits a moment in the workflow
  }

  async function take(traffic: Traffic): Promise<void> {
    let all: Bucket | undefined;
    try {
      all = await read(BUDGET_ITEMS.all);
      const buckets = traffic === 'backfill' ? [BUDGET_ITEMS.backfill, BUDGET_ITEMS.all] : [BUDGET_ITEMS.all];
      for (const id of buckets) {
        const wait = await takeFrom(id, all);
        if (wait > 0) throw new BudgetExhausted(`Zendesk request budget: ${traffic} traffic has no request left for ${wait.toFixed(1)} s`, Math.max(1, Math.ceil(wait)));
      }
      countBudget('used');
    } catch (error) {
      if (error instanceof ZendeskRateLimited) {
        countBudget('refused');
        throw error;
      }
      throw new StateStoreUnavailable(`Zendesk request budget: DynamoDB failed (${error instanceof Error ? error.name : 'Error'})`);
    }
  }

  /** Empties budget#all down to `tokens` (never raises it), and records the limit Zendesk reported. */
  async function lower(target: number, limit: number | undefined): Promise<void> {
    try {
      for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
        const bucket = await read(BUDGET_ITEMS.all);
        const { tokens, at } = level(BUDGET_ITEMS.all, bucket, bucket);
        if (tokens <= target && (limit === undefined || bucket?.limit === limit)) return;
        if (await writeBucket(doc, table, BUDGET_ITEMS.all, bucket, { tokens: Math.min(tokens, target), updatedAt: at, ...(limit !== undefined ? { limit } : {}) })) return;
      }
    } catch (error) {
      logger.warn('Zendesk request budget not corrected', { error: error instanceof Error ? error.name : 'Error' });
    }
  }

  return {
    take: () => take(currentTraffic()),
    async observe(status, headers) {
      const limit = headerNumber(headers, 'ratelimit-limit', 'x-rate-limit');
      if (limit !== undefined && limit > 0) observedLimit = limit;
      const remaining = headerNumber(headers, 'ratelimit-remaining', 'x-rate-limit-remaining');
      const perMinute = settings.requestsPerMinute ?? observedLimit ?? DEFAULT_REQUESTS_PER_MINUTE;
      if (status === 429 && isAccountLimit(remaining)) {
        // Nothing until Retry-After has passed: the bucket goes that far below empty.
        const retryAfter = headerNumber(headers, 'retry-after') ?? 60;
        await lower(-(retryAfter * perMinute * (1 - BURST_SHARE)) / 60, limit);
      } else if (remaining !== undefined && remaining < perMinute * BURST_SHARE) {
        // Others (another integration, the Zendesk UI) use the account too: believe Zendesk when it is running low.
        await lower(remaining, limit);
      }
    },
  };
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

/** Tokens ever taken from each bucket (`taken`), as `backfill status` reads them; undefined where none was counted. */
export async function readBudgetTaken(doc: DynamoDBDocumentClient, table: string): Promise<{ all?: number; backfill?: number }> {
  const out: { all?: number; backfill?: number } = {};
  for (const [name, id] of Object.entries(BUDGET_ITEMS) as Array<[keyof typeof BUDGET_ITEMS, string]>) {
    const item = (await doc.send(new GetCommand({ TableName: table, Key: { [BUDGET_KEY]: id }, ConsistentRead: true }))).Item as Bucket | undefined;
    if (typeof item?.taken === 'number') out[name] = item.taken;
  }
  return out;
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
