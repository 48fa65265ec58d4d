import { IdempotencyConfig } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { BasePersistenceLayerOptions } from '@aws-lambda-powertools/idempotency/types';
import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { idempotencyTable, type Env } from './config.js';
import { ConfigurationError } from './errors.js';

/**
 * Powertools idempotency records in DynamoDB (IDEMPOTENCY_TABLE, partition key `id`; the SDK reads
 * AWS_ENDPOINT_URL_DYNAMODB, dynalite locally).
 *
 * The key prefix is fixed per handler. Powertools' default prefix is AWS_LAMBDA_FUNCTION_NAME, which every handler
 * shares when they run in one local process, and in 2.35.0 the DynamoDB layer's constructor takes no prefix (only
 * makeIdempotent's options do, easy to forget): this layer injects its own prefix on every configure().
 * Use one layer per handler: a layer keeps the first IdempotencyConfig it is configured with.
 */
class PrefixedDynamoDBPersistenceLayer extends DynamoDBPersistenceLayer {
  constructor(
    private readonly fixedKeyPrefix: string,
    options: { tableName: string; clientConfig?: DynamoDBClientConfig },
  ) {
    super(options);
  }

  override configure(options: BasePersistenceLayerOptions): void {
    super.configure({ ...options, keyPrefix: options.keyPrefix?.trim() || this.fixedKeyPrefix });
  }
}

export interface IdempotencyPersistenceOptions {
  env?: Env;
  clientConfig?: DynamoDBClientConfig;
}

/** The persistence layer of one handler; records are keyed `{keyPrefix}#{hash of the event key}`. */
export function idempotencyPersistence(
  keyPrefix: string,
  options: IdempotencyPersistenceOptions = {},
): DynamoDBPersistenceLayer {
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(keyPrefix)) {
    throw new ConfigurationError('idempotency keyPrefix must be 1-63 lower-case letters, digits or dashes');
  }
  return new PrefixedDynamoDBPersistenceLayer(keyPrefix, {
    tableName: idempotencyTable(options.env ?? process.env),
    ...(options.clientConfig ? { clientConfig: options.clientConfig } : {}),
  });
}

export interface IdempotencyConfigOptions {
  /** JMESPath of the event fields that make up the key, e.g. `[ticketId, attachment.attachmentId]`. */
  eventKeyJmesPath: string;
  /** How long a completed result is replayed (Powertools default: 3600). */
  expiresAfterSeconds?: number;
  /** JMESPath of fields that must not change under the same key (IdempotencyValidationError otherwise). */
  payloadValidationJmesPath?: string;
}

/** An IdempotencyConfig that refuses events without a key (a missing key would otherwise disable idempotency). */
export function idempotencyConfig(options: IdempotencyConfigOptions): IdempotencyConfig {
  return new IdempotencyConfig({
    eventKeyJmesPath: options.eventKeyJmesPath,
    expiresAfterSeconds: options.expiresAfterSeconds ?? 3600,
    ...(options.payloadValidationJmesPath ? { payloadValidationJmesPath: options.payloadValidationJmesPath } : {}),
    throwOnNoIdempotencyKey: true,
  });
}
