import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import { listenLocally } from '../runtime/local-server.js';
import { accessKeyOf, type CallLog } from './calls.js';
import type { TableShape } from './tables.js';

/**
 * The two JSON-protocol endpoints of the deployed harness (the SDK reaches them through AWS_ENDPOINT_URL_DYNAMODB and
 * AWS_ENDPOINT_URL_SECRETS_MANAGER):
 * - DynamoDB: a recording proxy in front of the emulator (dynalite). Each call is recorded with its table, the index a
 *   Query or Scan names, and the partition key values it touches (what `dynamodb:LeadingKeys` conditions see: the
 *   Key or Item of an item call, the partition key's equality in a Query's KeyConditionExpression; none for a Scan).
 * - Secrets Manager: a small local service, `GetSecretValue` and `PutSecretValue` (JSON 1.1,
 *   `X-Amz-Target: secretsmanager.<Operation>`), holding the secrets the template creates, keyed by their ARNs.
 */

export interface Endpoint {
  url: string;
  close(): Promise<void>;
}

export interface Exchange {
  operation: string;
  body: Record<string, unknown>;
  raw: Buffer;
  headers: IncomingHttpHeaders;
  url: string;
}

export type Answer = { status: number; headers?: Record<string, string>; body: Buffer | string };

/** A small HTTP endpoint: each POST's body (parsed as JSON when it is JSON) goes to `handle`. */
export async function serve(handle: (exchange: Exchange) => Promise<Answer>): Promise<Endpoint> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      let body: Record<string, unknown> = {};
      try {
        body = raw.length ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {};
      } catch {
        // left empty: the service answers the malformed request itself
      }
      const operation = String(req.headers['x-amz-target'] ?? '').split('.').pop() ?? '';
      handle({ operation, body, raw, headers: req.headers, url: req.url ?? '/' })
        .then((answer) => res.writeHead(answer.status, answer.headers ?? {}).end(answer.body))
        .catch((error: unknown) => res.writeHead(500).end(String(error)));
    });
  });
  return listenLocally(server);
}

/** A scalar attribute value as a string (S, N or B). */
function scalar(value: unknown): string | undefined {
  const v = value as Record<string, unknown> | undefined;
  const found = v?.S ?? v?.N ?? v?.B;
  return found === undefined ? undefined : String(found);
}

/** `#k = :v` (or `k = :v`, either way round) in a KeyConditionExpression: the value compared to `partitionKey`. */
function keyConditionValue(body: Record<string, unknown>, partitionKey: string): string | undefined {
  const names = (body.ExpressionAttributeNames ?? {}) as Record<string, string>;
  const values = (body.ExpressionAttributeValues ?? {}) as Record<string, unknown>;
  const named = (token: string) => (token.startsWith('#') ? names[token] : token);
  for (const [, left, right] of String(body.KeyConditionExpression ?? '').matchAll(/([#:]?[\w.-]+)\s*=\s*([#:]?[\w.-]+)/g)) {
    const [name, value] = left!.startsWith(':') ? [right!, left!] : [left!, right!];
    if (named(name) === partitionKey && value.startsWith(':')) return scalar(values[value]);
  }
  const legacy = (body.KeyConditions as Record<string, { AttributeValueList?: unknown[] }> | undefined)?.[partitionKey]?.AttributeValueList?.[0];
  return legacy === undefined ? undefined : scalar(legacy);
}

/** The partition key values a request touches (Key or Item; a Query's key condition), as strings. */
function leadingKeys(operation: string, body: Record<string, unknown>, table: TableShape | undefined): string[] | undefined {
  if (!table) return undefined;
  const indexName = typeof body.IndexName === 'string' ? body.IndexName : undefined;
  const partitionKey = indexName ? table.indexPartitionKeys[indexName] : table.partitionKey;
  if (!partitionKey) return undefined;
  if (operation === 'Query') {
    const value = keyConditionValue(body, partitionKey);
    return value === undefined ? undefined : [value];
  }
  const item = (body.Key ?? body.Item) as Record<string, unknown> | undefined;
  const value = scalar(item?.[partitionKey]);
  return value === undefined ? undefined : [value];
}

function forward(target: URL, exchange: Exchange): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const { host: _host, ...headers } = exchange.headers;
    const upstream = httpRequest({ hostname: target.hostname, port: target.port, method: 'POST', path: exchange.url, headers: { ...headers, host: exchange.headers.host ?? target.host } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (c: Buffer) => chunks.push(c));
      response.on('end', () => {
        const out: Record<string, string> = {};
        for (const [k, v] of Object.entries(response.headers)) if (typeof v === 'string' && k !== 'connection' && k !== 'transfer-encoding') out[k] = v;
        resolve({ status: response.statusCode ?? 502, headers: out, body: Buffer.concat(chunks) });
      });
    });
    upstream.on('error', reject);
    upstream.end(exchange.raw);
  });
}

/** DynamoDB through a recording proxy; `tables` are the template's (tables.ts), for the partition key names. */
export function startRecordingDynamoDb(target: string, log: CallLog, tables: TableShape[]): Promise<Endpoint> {
  const upstream = new URL(target);
  return serve(async (exchange) => {
    const answer = await forward(upstream, exchange);
    const tableName = String(exchange.body.TableName ?? '');
    const indexName = typeof exchange.body.IndexName === 'string' ? exchange.body.IndexName : undefined;
    const keys = leadingKeys(exchange.operation, exchange.body, tables.find((t) => t.name === tableName));
    log.record({
      accessKeyId: accessKeyOf(exchange.headers, exchange.url),
      service: 'dynamodb',
      operation: exchange.operation,
      status: answer.status,
      dynamodb: { tableName, ...(indexName ? { indexName } : {}), ...(keys ? { leadingKeys: keys } : {}) },
    });
    return answer;
  });
}

export interface LocalSecrets extends Endpoint {
  /** Sets a secret's value, as `put-secret-value` does (by ARN). */
  put(arn: string, value: string): void;
  get(arn: string): string | undefined;
}

const json11 = (status: number, payload: unknown): Answer => ({ status, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify(payload) });

/**
 * Secrets Manager with the given secrets (ARN -> SecretString). A SecretId may be the ARN or the secret's name (the
 * ARN's name without its six-character suffix), as the service accepts.
 */
export async function startLocalSecrets(initial: Record<string, string>, log: CallLog): Promise<LocalSecrets> {
  const values = new Map(Object.entries(initial));
  const arnOf = (id: string) => [...values.keys()].find((arn) => arn === id || arn.split(':secret:')[1]?.replace(/-[A-Za-z0-9]{6}$/, '') === id);
  const endpoint = await serve(async ({ operation, body, headers, url }) => {
    const id = String(body.SecretId ?? '');
    const arn = arnOf(id);
    const answer = (() => {
      if (!arn) return json11(400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
      const name = arn.split(':secret:')[1]!.replace(/-[A-Za-z0-9]{6}$/, '');
      if (operation === 'GetSecretValue') {
        return json11(200, { ARN: arn, Name: name, SecretString: values.get(arn), VersionId: 'local-version', VersionStages: ['AWSCURRENT'], CreatedDate: Date.now() / 1000 });
      }
      if (operation === 'PutSecretValue' && typeof body.SecretString === 'string') {
        values.set(arn, body.SecretString);
        return json11(200, { ARN: arn, Name: name, VersionId: 'local-version', VersionStages: ['AWSCURRENT'] });
      }
      return json11(400, { __type: 'InvalidRequestException', message: `the local endpoint does not serve ${operation}` });
    })();
    log.record({ accessKeyId: accessKeyOf(headers, url), service: 'secretsmanager', operation, status: answer.status, resourceArn: arn ?? id });
    return answer;
  });
  return { ...endpoint, put: (arn, value) => values.set(arn, value), get: (arn) => values.get(arn) };
}
