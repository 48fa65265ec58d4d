/**
 * A minimal Lambda runtime for Node.js, run as its own process (`node runtime-loop.ts`, Node's type stripping): the
 * stand-in for aws-lambda-ric where its native client is not built (macOS, or an install that skipped its build
 * scripts). It does what Lambda's Node.js runtime does, and no more:
 *
 * - loads the handler named by `_HANDLER` (`index.handler`: module `index`, export `handler`; `dir/module.a.b` for
 *   nested names) from `LAMBDA_TASK_ROOT`, trying the extensions '', .js, .mjs, .cjs in that order, as the runtime does;
 *   a load failure is posted to `/runtime/init/error` and the process exits;
 * - polls `GET /2018-06-01/runtime/invocation/next` on `AWS_LAMBDA_RUNTIME_API`, calls the handler with the event and a
 *   context built from the Lambda-Runtime-* headers and the AWS_LAMBDA_* variables, and posts the JSON result to
 *   `.../response` or `{errorType, errorMessage, trace}` to `.../error`.
 *
 * No streaming responses and no callback-style handlers (Node.js 24 on Lambda refuses those too). Node built-ins only.
 */
import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

type Handler = (event: unknown, context: Record<string, unknown>) => unknown;

const api = process.env.AWS_LAMBDA_RUNTIME_API ?? '';
const [host, port] = api.split(':');

function call(method: string, route: string, body?: string, headers: Record<string, string> = {}): Promise<{ headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host, port: Number(port), method, path: `/2018-06-01/runtime${route}`, headers: { 'content-type': 'application/json', ...headers } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (c: Buffer) => chunks.push(c));
      response.on('end', () => resolve({ headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

function errorBody(error: unknown): { errorType: string; errorMessage: string; trace: string[] } {
  if (error instanceof Error) return { errorType: error.name || 'Error', errorMessage: error.message, trace: (error.stack ?? '').split('\n') };
  return { errorType: typeof error, errorMessage: String(error), trace: [] };
}

async function loadHandler(): Promise<Handler> {
  const handlerString = process.env._HANDLER ?? '';
  const base = path.basename(handlerString);
  const dot = base.indexOf('.');
  if (dot < 1) throw Object.assign(new Error(`Bad handler ${handlerString}`), { name: 'Runtime.MalformedHandlerName' });
  const moduleBase = path.resolve(process.env.LAMBDA_TASK_ROOT ?? '.', path.dirname(handlerString), base.slice(0, dot));
  const file = ['', '.js', '.mjs', '.cjs'].map((ext) => moduleBase + ext).find((f) => existsSync(f) && !f.endsWith(path.sep));
  if (!file) throw Object.assign(new Error(`Cannot find module '${moduleBase}'`), { name: 'Runtime.ImportModuleError' });
  const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const find = (root: unknown) => base.slice(dot + 1).split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), root);
  const handler = find(module) ?? find(module.default);
  if (typeof handler !== 'function') throw Object.assign(new Error(`${handlerString} is undefined or not exported`), { name: 'Runtime.HandlerNotFound' });
  return handler as Handler;
}

function contextOf(headers: http.IncomingHttpHeaders): Record<string, unknown> {
  const deadline = Number(headers['lambda-runtime-deadline-ms']);
  return {
    awsRequestId: String(headers['lambda-runtime-aws-request-id']),
    invokedFunctionArn: String(headers['lambda-runtime-invoked-function-arn']),
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
}

async function main(): Promise<void> {
  let handler: Handler;
  try {
    handler = await loadHandler();
  } catch (error) {
    const body = errorBody(error);
    await call('POST', '/init/error', JSON.stringify(body), { 'lambda-runtime-function-error-type': body.errorType });
    process.exit(1);
  }
  for (;;) {
    const next = await call('GET', '/invocation/next');
    const requestId = String(next.headers['lambda-runtime-aws-request-id']);
    const trace = next.headers['lambda-runtime-trace-id'];
    if (typeof trace === 'string') process.env._X_AMZN_TRACE_ID = trace;
    else delete process.env._X_AMZN_TRACE_ID;
    try {
      const result = await handler(JSON.parse(next.body), contextOf(next.headers));
      await call('POST', `/invocation/${encodeURIComponent(requestId)}/response`, JSON.stringify(result ?? null));
    } catch (error) {
      const body = errorBody(error);
      await call('POST', `/invocation/${encodeURIComponent(requestId)}/error`, JSON.stringify(body), { 'lambda-runtime-function-error-type': body.errorType });
    }
  }
}

void main();
