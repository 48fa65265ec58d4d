import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { accessKeyOf, type CallLog } from './calls.js';

/**
 * The two JSON-protocol endpoints of the deployed harness (the SDK reaches them through AWS_ENDPOINT_URL_DYNAMODB and
 * AWS_ENDPOINT_URL_SECRETS_MANAGER):
 * - DynamoDB: a recording proxy in front of the emulator (dynalite). Each call is recorded with its table and the
 *   partition key values it touches (what `dynamodb:LeadingKeys` conditions see).
 * - Secrets Manager: a small local service, `GetSecretValue` and `PutSecretValue` (JSON 1.1,
 *   `X-Amz-Target: secretsmanager.<Operation>`), holding the secrets the template creates, keyed by their ARNs.
 */

export interface Endpoint {
  url: string;
  close(): Promise<void>;
}

interface Exchange {
  operation: string;
  body: Record<string, unknown>;
  raw: Buffer;
  headers: IncomingHttpHeaders;
  url: string;
}

type Answer = { status: number; headers?: Record<string, string>; body: Buffer | string };

async function serve(handle: (exchange: Exchange) => Promise<Answer>): Promise<Endpoint> {
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
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The partition key values of an item-level request (Key or Item), as strings. */
function leadingKeys(body: Record<string, unknown>, partitionKeyOf: (table: string) => string | undefined): string[] | undefined {
  const table = String(body.TableName ?? '');
  const name = partitionKeyOf(table);
  const item = (body.Key ?? body.Item) as Record<string, Record<string, unknown>> | undefined;
  const value = name && item?.[name];
  if (!value) return undefined;
  const scalar = value.S ?? value.N ?? value.B;
  return scalar === undefined ? undefined : [String(scalar)];
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

/** DynamoDB through a recording proxy. `partitionKeyOf(table)` names each table's partition key (from the template). */
export function startRecordingDynamoDb(target: string, log: CallLog, partitionKeyOf: (table: string) => string | undefined): Promise<Endpoint> {
  const upstream = new URL(target);
  return serve(async (exchange) => {
    const answer = await forward(upstream, exchange);
    const tableName = String(exchange.body.TableName ?? '');
    const keys = leadingKeys(exchange.body, partitionKeyOf);
    log.record({
      accessKeyId: accessKeyOf(exchange.headers, exchange.url),
      service: 'dynamodb',
      operation: exchange.operation,
      status: answer.status,
      dynamodb: { tableName, ...(keys ? { leadingKeys: keys } : {}) },
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
