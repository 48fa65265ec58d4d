import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createIngress, type Ingress } from '../lambdas/webhook/ingress.js';
import { MAX_BODY_BYTES } from '../lambdas/webhook/ingress.js';
import { dynamoDeliveryLedger } from '../lambdas/webhook/deliveries.js';
import { idempotencyTable, webhookToleranceSeconds } from '../lambdas/shared/config.js';
import type { LocalRuntime } from '../local/runtime/local.js';
import { logger } from '../lambdas/shared/logger.js';

const ROUTE = '/webhooks/zendesk';

/** Reads at most limit+1 bytes: enough for the ingress to answer 413 without holding a large body. */
async function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    chunks.push(buffer);
    if (size > limit) break;
  }
  return Buffer.concat(chunks).subarray(0, limit + 1);
}

/**
 * The local API Gateway: the same ingress core as the webhook Lambda, starting executions in the local
 * engine (which runs them in the background, as Step Functions would).
 */
export function createLocalIngress(runtime: LocalRuntime): Ingress {
  return createIngress({
    deliveries: dynamoDeliveryLedger(idempotencyTable(runtime.env)),
    secret: () => {
      const secret = runtime.env.ZENDESK_WEBHOOK_SECRET;
      if (!secret) throw new Error('ZENDESK_WEBHOOK_SECRET is not set');
      return secret;
    },
    startExecution: async (name, input) => {
      const started = await runtime.engine.start(input, name);
      void started.done.then((record) => logger.info('execution finished', { executionName: record.executionName, status: record.status }));
      return started;
    },
    toleranceSeconds: webhookToleranceSeconds(runtime.env),
    log: {
      info: (message, extra) => logger.info(message, extra ?? {}),
      warn: (message, extra) => logger.warn(message, extra ?? {}),
      error: (message, extra) => logger.error(message, extra ?? {}),
    },
  });
}

export async function startWebhookServer(runtime: LocalRuntime, options: { port: number; host: string }): Promise<{ server: Server; url: string }> {
  const ingress = createLocalIngress(runtime);
  const server = createServer((request, response) => {
    void (async () => {
      try {
        const path = (request.url ?? '/').split('?')[0];
        if (path !== ROUTE) {
          response.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"not found"}');
          return;
        }
        const rawBody = await readBody(request, MAX_BODY_BYTES);
        const headers: Record<string, string> = {};
        for (const [key, value] of Object.entries(request.headers)) {
          if (typeof value === 'string') headers[key.toLowerCase()] = value;
          else if (Array.isArray(value)) headers[key.toLowerCase()] = value.join(', ');
        }
        const result = await ingress({ method: request.method ?? 'GET', headers, rawBody });
        response.writeHead(result.statusCode, result.headers).end(result.body);
      } catch {
        if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
        response.end('{"message":"internal error"}');
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as { port: number };
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return { server, url: `http://${host}:${address.port}${ROUTE}` };
}
