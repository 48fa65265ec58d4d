/**
 * The Lambda-like runtime of the deployed harness on a tiny handler: results and errors cross as JSON, the context
 * comes from the Runtime API's headers, the function's timeout kills the invocation (Sandbox.Timedout), a crash is a
 * Runtime.ExitError, and the process sees only the environment it is given. Run under every runtime available here
 * (aws-lambda-ric needs its native client; the built-in loop always works).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { DeployedFunction } from '../../local/deployed/assembly.js';
import { FunctionProcesses, lambdaRuntime, type LambdaRuntime } from '../../local/deployed/launcher.js';

const codeDir = mkdtempSync(path.join(tmpdir(), 'vault-fn-'));
writeFileSync(
  path.join(codeDir, 'index.mjs'),
  `export const handler = async (event, context) => {
    if (event.sleepMs) await new Promise((r) => setTimeout(r, event.sleepMs));
    if (event.fail) { const e = new Error('zendesk said 503'); e.name = 'ZendeskUnavailable'; throw e; }
    if (event.exit) process.exit(3);
    return { event, functionName: context.functionName, requestId: context.awsRequestId, remainingMs: context.getRemainingTimeInMillis(),
      setting: process.env.SETTING ?? null, jestLeaks: Object.keys(process.env).some((k) => k.startsWith('JEST')) };
  };\n`,
);
afterAll(() => rmSync(codeDir, { recursive: true, force: true }));

const fn: DeployedFunction = {
  logicalId: 'TinyFunction',
  functionName: 'tiny',
  arn: 'arn:aws:lambda:eu-west-1:123456789012:function:tiny',
  handler: 'index.handler',
  runtime: 'nodejs24.x',
  timeoutSeconds: 1,
  memorySize: 128,
  environment: {},
  codeDir,
  roleLogicalId: 'TinyRole',
  roleArn: 'arn:aws:iam::123456789012:role/tiny',
  logGroupName: '/aws/lambda/tiny',
};

const env = {
  PATH: process.env.PATH ?? '',
  SETTING: 'from-the-template',
  AWS_LAMBDA_FUNCTION_NAME: 'tiny',
  AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
  AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/tiny',
  LAMBDA_TASK_ROOT: codeDir,
  _HANDLER: 'index.handler',
};

const runtimes: LambdaRuntime[] = [lambdaRuntime('builtin'), ...(lambdaRuntime().kind === 'ric' ? [lambdaRuntime('ric')] : [])];
console.log(`Lambda runtimes under test: ${runtimes.map((r) => (r.kind === 'ric' ? `aws-lambda-ric ${r.version}` : 'built-in loop')).join(', ')}`);

describe.each(runtimes.map((r) => [r.kind, r] as const))('%s runtime', (_kind, runtime) => {
  const processes = new FunctionProcesses({ fn, env, runtime, maxEnvironments: 1 });
  afterAll(() => processes.close());

  it('passes the event and the result as JSON, with a context from the Runtime API and only the given environment', async () => {
    const outcome = await processes.invoke(JSON.stringify({ ticketId: '42' }));
    expect(outcome.ok).toBe(true);
    const result = JSON.parse((outcome as { payload: string }).payload) as Record<string, unknown>;
    expect(result).toMatchObject({ event: { ticketId: '42' }, functionName: 'tiny', setting: 'from-the-template', jestLeaks: false });
    expect(result.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.remainingMs).toBeGreaterThan(0);
    expect(result.remainingMs).toBeLessThanOrEqual(1000);
  });

  it('reports a thrown error by its name and message, as Step Functions reads them', async () => {
    const outcome = await processes.invoke('{"fail":true}');
    expect(outcome).toMatchObject({ ok: false, error: { errorType: 'ZendeskUnavailable', errorMessage: 'zendesk said 503' } });
  });

  it('enforces the function timeout: the invocation fails with Sandbox.Timedout and the next one gets a new environment', async () => {
    const started = Date.now();
    const outcome = await processes.invoke('{"sleepMs":5000}');
    expect(Date.now() - started).toBeLessThan(3000);
    expect(outcome).toMatchObject({ ok: false, error: { errorType: 'Sandbox.Timedout', errorMessage: expect.stringContaining('Task timed out after 1.00 seconds') } });
    expect((await processes.invoke('{"again":true}')).ok).toBe(true);
  });

  it('reports a process that exits mid-invocation as Runtime.ExitError', async () => {
    expect(await processes.invoke('{"exit":true}')).toMatchObject({ ok: false, error: { errorType: 'Runtime.ExitError' } });
  });
});
