import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local implementation of the Lambda Runtime API (2018-06-01) for one execution environment: the HTTP interface a
 * Lambda runtime (aws-lambda-ric, or runtime-loop.ts) polls for work. One invocation at a time, as in Lambda:
 *
 * - `GET /2018-06-01/runtime/invocation/next` waits until an invocation is delivered, then answers with the event as
 *   JSON and the Lambda-Runtime-* headers (request ID, deadline, invoked function ARN, trace ID).
 * - `POST /2018-06-01/runtime/invocation/{id}/response` is the result (JSON text).
 * - `POST /2018-06-01/runtime/invocation/{id}/error` is a function error, `{errorType, errorMessage, trace?}`.
 * - `POST /2018-06-01/runtime/init/error` is an initialization error (the handler could not be loaded).
 *
 * Events and results cross as JSON text only: nothing is shared in memory with the caller.
 */

export interface FunctionError {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}

export type InvocationOutcome = { ok: true; payload: string } | { ok: false; error: FunctionError };

export interface Invocation {
  /** The event as JSON text. */
  event: string;
  /** The function's timeout: the deadline is this long after the runtime takes the invocation (init is not counted). */
  timeoutMs: number;
  invokedFunctionArn: string;
  requestId?: string;
  /** Called when the runtime takes the invocation, with its deadline (epoch ms). */
  onStart?: (deadlineMs: number) => void;
}

interface Pending {
  requestId: string;
  invocation: Invocation;
  settle: (outcome: InvocationOutcome) => void;
}

const PREFIX = '/2018-06-01/runtime';

/** deliver() while an invocation is still running: an execution environment runs one at a time. */
export class EnvironmentBusy extends Error {
  override readonly name = 'EnvironmentBusy';
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

/** A function error's body, or the shape Lambda reports when a runtime posted something else. */
function parseError(body: string, fallbackType: string): FunctionError {
  try {
    const parsed = JSON.parse(body) as Partial<FunctionError>;
    if (typeof parsed.errorType === 'string' || typeof parsed.errorMessage === 'string') {
      return { errorType: parsed.errorType || fallbackType, errorMessage: String(parsed.errorMessage ?? ''), ...(Array.isArray(parsed.trace) ? { trace: parsed.trace.map(String) } : {}) };
    }
  } catch {
    // not JSON: reported as it came
  }
  return { errorType: fallbackType, errorMessage: body };
}

export class RuntimeApiServer {
  private pending: Pending | undefined;
  /** An invocation handed to the runtime and not answered yet. */
  private inFlight: Pending | undefined;
  private waiting: ServerResponse | undefined;
  /** The runtime's init error, when it reported one. */
  initError: FunctionError | undefined;
  private markPolled: () => void = () => undefined;
  /** Resolves when the runtime first asks for work: its initialization (the handler's module loaded) is done. */
  readonly polled = new Promise<void>((resolve) => (this.markPolled = resolve));

  private constructor(private readonly server: Server) {}

  static async start(): Promise<RuntimeApiServer> {
    const server = createServer();
    const api = new RuntimeApiServer(server);
    server.on('request', (request, response) => {
      api.handle(request, response).catch(() => response.writeHead(500).end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return api;
  }

  /** `host:port`, what AWS_LAMBDA_RUNTIME_API holds. */
  get address(): string {
    const { port } = this.server.address() as AddressInfo;
    return `127.0.0.1:${port}`;
  }

  /** Hands one invocation to the runtime's next poll; resolves with what the runtime posted back. */
  deliver(invocation: Invocation): Promise<InvocationOutcome> {
    if (this.pending || this.inFlight) throw new EnvironmentBusy('an execution environment runs one invocation at a time');
    return new Promise<InvocationOutcome>((settle) => {
      this.pending = { requestId: invocation.requestId ?? randomUUID(), invocation, settle };
      this.hand();
    });
  }

  /** Ends the current invocation without an answer from the runtime (a timeout, the process gone). */
  abandon(error: FunctionError): void {
    const current = this.inFlight ?? this.pending;
    this.inFlight = undefined;
    this.pending = undefined;
    current?.settle({ ok: false, error });
  }

  private hand(): void {
    if (!this.pending || !this.waiting) return;
    const { requestId, invocation } = this.pending;
    const response = this.waiting;
    this.waiting = undefined;
    this.inFlight = this.pending;
    this.pending = undefined;
    const deadlineMs = Date.now() + invocation.timeoutMs;
    invocation.onStart?.(deadlineMs);
    response
      .writeHead(200, {
        'content-type': 'application/json',
        'lambda-runtime-aws-request-id': requestId,
        'lambda-runtime-deadline-ms': String(deadlineMs),
        'lambda-runtime-invoked-function-arn': invocation.invokedFunctionArn,
        'lambda-runtime-trace-id': `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${requestId.replace(/-/g, '').slice(0, 24)};Sampled=0`,
      })
      .end(invocation.event);
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = request.url ?? '';
    const body = await readBody(request);
    if (request.method === 'GET' && url === `${PREFIX}/invocation/next`) {
      this.markPolled();
      this.waiting = response;
      response.on('close', () => {
        if (this.waiting === response) this.waiting = undefined;
      });
      this.hand();
      return;
    }
    const answer = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(url);
    if (request.method === 'POST' && answer) {
      const current = this.inFlight;
      if (!current || current.requestId !== decodeURIComponent(answer[1] as string)) {
        response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ errorType: 'InvalidRequestID', errorMessage: 'unknown or finished request' }));
        return;
      }
      this.inFlight = undefined;
      const errorType = String(request.headers['lambda-runtime-function-error-type'] ?? 'Unhandled');
      current.settle(answer[2] === 'response' ? { ok: true, payload: body } : { ok: false, error: parseError(body, errorType) });
      response.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"OK"}');
      return;
    }
    if (request.method === 'POST' && url === `${PREFIX}/init/error`) {
      this.initError = parseError(body, String(request.headers['lambda-runtime-function-error-type'] ?? 'Runtime.InitError'));
      this.abandon(this.initError);
      response.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"OK"}');
      return;
    }
    response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ errorType: 'NotFound', errorMessage: url }));
  }

  async close(): Promise<void> {
    this.waiting?.destroy();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
