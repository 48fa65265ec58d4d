/**
 * What the soak's runner talks to, all in the parent so that it survives the runner's kills: the sandbox Zendesk, the
 * embedded S3 (fauxqs, in memory) behind a fault proxy, the embedded DynamoDB tables (idempotency, request budget,
 * archive index and audit), and a notification endpoint behind a fault proxy. The check reads S3 directly (unfaulted).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { S3Client } from '@aws-sdk/client-s3';
import { s3Operation, startFaultProxy, type FaultProxy } from '../local/faults/index.js';
import { LOCAL_BUCKET, randomSecret, startEmbeddedServices } from '../local/runtime/services.js';
import { startSandboxZendesk, type SandboxZendesk } from '../local/sandbox/zendesk.js';

export interface SoakServices {
  sandbox: SandboxZendesk;
  s3Proxy: FaultProxy;
  notifyProxy: FaultProxy;
  /** Straight to fauxqs: the check's view of the archive. */
  s3: S3Client;
  bucket: string;
  /** Notification bodies received (each once the endpoint answered it). */
  notifications: number;
  /** The runner's environment: the handlers' settings pointing at these services. */
  runnerEnv: Record<string, string>;
  close(): Promise<void>;
}

/** The team's webhook: answers 200 to every POST it gets (the fault proxy in front of it plays the outages). */
async function startNotifyEndpoint(counter: { notifications: number }): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      counter.notifications += 1;
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

export async function startSoakServices(dataDir: string, options: { perTicketUpdateLimit: number }): Promise<SoakServices> {
  const region = 'us-east-1';
  const email = 'vault@soak.example';
  const apiToken = randomSecret();
  const sandbox = await startSandboxZendesk({ auth: { email, apiToken }, perTicketUpdateLimit: options.perTicketUpdateLimit });
  // No shared request budget: it counts real 10 s windows, and the runner's Waits are shortened (as openLocal's are).
  const embedded = await startEmbeddedServices({ AWS_REGION: region, ZENDESK_URL: sandbox.url }, dataDir, { persistS3: false, requestBudget: false });
  const s3Url = embedded.env.AWS_ENDPOINT_URL_S3!;
  const s3Proxy = await startFaultProxy({ target: s3Url, classify: (req) => s3Operation(req) });
  const counter = { notifications: 0 };
  const notify = await startNotifyEndpoint(counter);
  const notifyProxy = await startFaultProxy({ target: notify.url, classify: () => 'notify' });
  const s3 = new S3Client({ endpoint: s3Url, region, forcePathStyle: true, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const runnerEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    ...embedded.env,
    AWS_ENDPOINT_URL_S3: s3Proxy.url,
    SOAK_S3_DIRECT: s3Url,
    ATTACHMENT_VAULT_DATA_DIR: dataDir,
    ZENDESK_URL: sandbox.url,
    ZENDESK_EMAIL: email,
    ZENDESK_API_TOKEN: apiToken,
    ZENDESK_CONTENT_HOSTS: sandbox.contentOrigin,
    ZENDESK_WEBHOOK_SECRET: randomSecret(),
    NOTIFY_WEBHOOK_URL: `${notifyProxy.url}/notify`,
    NOTIFY_FORMAT: 'zapier',
    EXECUTION_CONSOLE_URL: 'attachment-vault executions show {executionName} --local',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    // A stalled download is cut after 3 s (DownloadIncomplete, retried), not after the default minute.
    DOWNLOAD_IDLE_TIMEOUT_SECONDS: '3',
  };
  return {
    sandbox,
    s3Proxy,
    notifyProxy,
    s3,
    bucket: embedded.env.ARCHIVE_BUCKET ?? LOCAL_BUCKET,
    get notifications() {
      return counter.notifications;
    },
    runnerEnv,
    close: async () => {
      s3.destroy();
      await notifyProxy.close();
      await new Promise<void>((resolve) => notify.server.close(() => resolve()));
      await s3Proxy.close();
      await embedded.close();
      await sandbox.close();
    },
  };
}
