/**
 * The deployed suite's rig: one real synthesis (esbuild bundling, as `cdk synth` does it), the harness over its cloud
 * assembly, the sandbox Zendesk as the Zendesk account, and a local receiver for notifications. The operator steps of
 * the README's Deploy section are done the same way: the secrets are filled with put-secret-value, and
 * `attachment-vault zendesk setup` creates the webhook (pointing at the local HTTP API) and stores its signing secret.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jest } from '@jest/globals';
import { PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createZendeskAdmin } from '../../cli/zendesk-admin.js';
import { zendeskSetup } from '../../cli/zendesk-setup.js';
import { DEFAULT_FAKE_AWS, startDeployedStack, type DeployedHarness } from '../../local/deployed/harness.js';
import { startSandboxZendesk, type SandboxZendesk } from '../../local/sandbox/zendesk.js';
import { synthVault, type VaultSynth } from '../infra/support/vault.js';

export const AWS = DEFAULT_FAKE_AWS;
/** The operator's credentials: their calls are not the functions', so the IAM check leaves them out. */
export const OPERATOR = { accessKeyId: 'AKID-operator', secretAccessKey: 'operator' };
export const ACCOUNT_REQUESTS_PER_MINUTE = 2500;
const AUTH = { email: 'vault@sandbox.example', apiToken: 'sandbox-token-7d1f' };

export interface Notification {
  body: Record<string, unknown>;
  text: string;
}

export interface DeployedRig {
  synth: VaultSynth;
  harness: DeployedHarness;
  sandbox: SandboxZendesk;
  notifications: Notification[];
  /** Test hook before every Task (the engine's beforeTask). */
  hooks: { beforeTask?: (state: string, input: unknown) => Promise<void> | void };
  /** The last log lines of the function processes (printed when a scenario fails). */
  logs: string[];
  close(): Promise<void>;
}

async function startReceiver(): Promise<{ server: Server; url: string; received: Notification[] }> {
  const received: Notification[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        received.push({ body: JSON.parse(text) as Record<string, unknown>, text });
      } catch {
        received.push({ body: {}, text });
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/vault`, received };
}

/** The ARN the template passes a function in `variable` (e.g. ZENDESK_SECRET_ARN). */
export function secretArnOf(harness: DeployedHarness, variable: string): string {
  const arn = harness.stack.functions.map((f) => f.environment[variable]).find((v) => v !== undefined);
  if (!arn) throw new Error(`no function of the template has ${variable}`);
  return arn;
}

export async function openDeployedRig(): Promise<DeployedRig> {
  const quiet = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  let synth: VaultSynth;
  try {
    // Tickets of more than two files copy in the Distributed Map (ItemReader, ResultWriter, child executions); the
    // request budget is set to the sandbox account's limit (startSandboxZendesk below).
    synth = synthVault({ bundle: true, context: { copyInlineMaxFiles: 2, zendeskRequestsPerMinute: ACCOUNT_REQUESTS_PER_MINUTE } });
  } finally {
    quiet.mockRestore();
  }
  // An account with Zendesk's High Volume API add-on (2,500 requests a minute), and the stack told so
  // (zendeskRequestsPerMinute, below): the request budget's 10-second windows then carry the scenarios' bursts. Its
  // waits are real time while the scenarios' Wait states are shortened to nothing, so a budget wait would turn into a
  // run of refusals (SelectTickets gives up after ZENDESK_MAX_WAITS of them): at the sandbox's default 700, or the
  // budget's own default of 200 before it has read Zendesk's headers, the later scenarios would hit it.
  const sandbox = await startSandboxZendesk({ auth: AUTH, accountRateLimit: ACCOUNT_REQUESTS_PER_MINUTE });
  const receiver = await startReceiver();
  const historyDir = mkdtempSync(path.join(tmpdir(), 'vault-deployed-'));
  const logs: string[] = [];
  const hooks: DeployedRig['hooks'] = {};
  const harness = await startDeployedStack({
    assemblyDir: synth.assembly.directory,
    historyDir,
    zendesk: { url: sandbox.url, contentHosts: sandbox.contentOrigin },
    retryIntervalMs: 0,
    waitMs: 0,
    beforeTask: async (state, input) => hooks.beforeTask?.(state, input),
    onLog: (line, fn) => {
      logs.push(`${fn.logicalId} ${line}`);
      if (logs.length > 400) logs.shift();
    },
  });
  const secrets = new SecretsManagerClient({ endpoint: harness.secrets.url, region: AWS.region, credentials: OPERATOR });
  const put = (variable: string, value: object) => secrets.send(new PutSecretValueCommand({ SecretId: secretArnOf(harness, variable), SecretString: JSON.stringify(value) }));
  await put('ZENDESK_SECRET_ARN', AUTH);
  await put('NOTIFY_SECRET_ARN', { url: receiver.url });
  const admin = createZendeskAdmin({ baseUrl: sandbox.url, credentials: { kind: 'api_token', ...AUTH } });
  await zendeskSetup(
    { webhookUrl: `${harness.apiUrlFor('POST /webhooks/zendesk')}/webhooks/zendesk`, secretId: secretArnOf(harness, 'WEBHOOK_SECRET_ARN'), requestTag: 'vault_archive', processingTag: 'vault_processing' },
    { admin, secretsManager: secrets },
  );
  secrets.destroy();
  return {
    synth,
    harness,
    sandbox,
    notifications: receiver.received,
    hooks,
    logs,
    close: async () => {
      await harness.close();
      await sandbox.close();
      await new Promise<void>((resolve) => receiver.server.close(() => resolve()));
      rmSync(historyDir, { recursive: true, force: true });
      synth.cleanup();
    },
  };
}
