import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { idempotencyTable, webhookToleranceSeconds, type Env } from '../shared/config.js';
import { dynamoDeliveryLedger } from './deliveries.js';
import { ConfigurationError } from '../shared/errors.js';
import { logger } from '../shared/logger.js';
import { webhookSigningSecret } from '../shared/secrets.js';
import { createIngress, type Ingress, type IngressLog, type IngressRequest, type IngressResponse } from './ingress.js';

/**
 * The thin Lambda door of the webhook: API Gateway event -> normalized request -> ingress core -> response.
 * Accepts HTTP API (payload v2) and REST API (v1) proxy events. Environment:
 * - STATE_MACHINE_ARN (required): the workflow to start.
 * - IDEMPOTENCY_TABLE (required): where accepted deliveries are recorded (deliveries.ts).
 * - WEBHOOK_SECRET_ARN (AWS) or ZENDESK_WEBHOOK_SECRET (local): the signing secret, see shared/secrets.ts.
 * - WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS (optional, default 900): accepted signature timestamp skew, both directions.
 * The local runtime does not use this file's handler: it calls createIngress() with its own startExecution.
 */

export { createIngress } from './ingress.js';
export type { Ingress, IngressDeps, IngressRequest, IngressResponse, StartExecution } from './ingress.js';

/** The fields of API Gateway proxy events (v1 and v2) that the webhook reads. */
export interface ApiGatewayEvent {
  version?: string;
  httpMethod?: string;
  requestContext?: { http?: { method?: string } };
  headers?: Record<string, string | undefined> | null;
  multiValueHeaders?: Record<string, string[] | undefined> | null;
  body?: string | null;
  isBase64Encoded?: boolean;
}

export interface ApiGatewayResult extends IngressResponse {
  isBase64Encoded: false;
}

/** Lower-cases header names and decodes a base64 body back to the exact bytes Zendesk signed. */
export function normalizeEvent(event: ApiGatewayEvent): IngressRequest {
  const headers: Record<string, string> = {};
  for (const [name, values] of Object.entries(event.multiValueHeaders ?? {})) {
    if (values?.length) headers[name.toLowerCase()] = values.join(',');
  }
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined && value !== null) headers[name.toLowerCase()] = value;
  }
  const body = event.body ?? '';
  return {
    method: event.requestContext?.http?.method ?? event.httpMethod ?? '',
    headers,
    rawBody: event.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8'),
  };
}

const powertoolsLog: IngressLog = {
  info: (message, extra) => logger.info(message, extra ?? {}),
  warn: (message, extra) => logger.warn(message, extra ?? {}),
  error: (message, extra) => logger.error(message, extra ?? {}),
};

/** Builds the ingress against real Step Functions. Exported for tests; the client is injectable. */
export function createLambdaIngress(env: Env = process.env, sfn: SFNClient = new SFNClient({})): Ingress {
  const stateMachineArn = env.STATE_MACHINE_ARN?.trim();
  if (!stateMachineArn) throw new ConfigurationError('STATE_MACHINE_ARN is not set');
  return createIngress({
    secret: () => webhookSigningSecret(env),
    deliveries: dynamoDeliveryLedger(idempotencyTable(env)),
    startExecution: (name, input) =>
      sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) })),
    toleranceSeconds: webhookToleranceSeconds(env),
    log: powertoolsLog,
  });
}

let ingress: Ingress | undefined;

export const handler = async (event: ApiGatewayEvent): Promise<ApiGatewayResult> => {
  try {
    ingress ??= createLambdaIngress();
  } catch (error) {
    logger.error('webhook is misconfigured', { error: error instanceof Error ? error.message : 'unknown' });
    return {
      statusCode: 500,
      headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
      body: JSON.stringify({ message: 'internal error' }),
      isBase64Encoded: false,
    };
  }
  const response = await ingress(normalizeEvent(event));
  return { ...response, isBase64Encoded: false };
};
