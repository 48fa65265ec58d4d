/**
 * `npm start`: the whole product on one machine, on embedded defaults. Seeds a sandbox ticket, delivers a
 * signed Zendesk webhook to the local ingress, runs the unchanged ASL in the local engine, and shows what
 * happened: the path through the states, each file's outcome, and what Zendesk and S3 hold afterwards.
 */
import { createServer } from 'node:http';
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { reserveStdout, printLine } from './cli/output.js';

reserveStdout();
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
const dataDir = resolve('.local/demo');
await rm(dataDir, { recursive: true, force: true });

// A stand-in for Slack's incoming webhook, so the demo shows the message the team would read.
const received: Array<{ text?: string }> = [];
const slack = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (c: Buffer) => chunks.push(c));
  request.on('end', () => {
    received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as { text?: string });
    response.writeHead(200).end('ok');
  });
});
await new Promise<void>((r) => slack.listen(0, '127.0.0.1', r));
const slackUrl = `http://127.0.0.1:${(slack.address() as { port: number }).port}/services/T000/B000/demo`;

const { openLocal, DEMO_TICKET_ID } = await import('./runtime/local.js');
const { startWebhookServer } = await import('./cli/serve.js');
const { signZendeskPayload } = await import('../lambdas/shared/signature.js');
const { documentOf } = await import('./cli/run.js');
const { describePath } = await import('./runtime/path.js');

const env: NodeJS.ProcessEnv = { ...process.env, ATTACHMENT_VAULT_DATA_DIR: dataDir, NOTIFY_WEBHOOK_URL: slackUrl, NOTIFY_FORMAT: 'slack' };
delete env.ZENDESK_URL;
delete env.AWS_ENDPOINT_URL_S3;
delete env.ARCHIVE_BUCKET;
delete env.IDEMPOTENCY_TABLE;
const runtime = await openLocal({ env });
const sandbox = runtime.sandbox!;
let exitCode = 1;
try {
  printLine(`attachment-vault demo: sandbox Zendesk at ${runtime.env.ZENDESK_URL}, embedded S3 bucket ${runtime.env.ARCHIVE_BUCKET}\n`);
  const before = sandbox.ticket(Number(DEMO_TICKET_ID));
  printLine(`1. Ticket ${DEMO_TICKET_ID} is tagged [${before?.tags.join(', ')}]: its trigger sends a signed webhook.`);

  const { server, url } = await startWebhookServer(runtime, { port: 0, host: '127.0.0.1' });
  const body = JSON.stringify({ ticket_id: DEMO_TICKET_ID });
  const timestamp = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-zendesk-webhook-id': '01DEMOWEBHOOK',
      'x-zendesk-webhook-invocation-id': '1',
      'x-zendesk-webhook-signature-timestamp': timestamp,
      'x-zendesk-webhook-signature': signZendeskPayload(runtime.env.ZENDESK_WEBHOOK_SECRET!, timestamp, Buffer.from(body)),
    },
    body,
  });
  const accepted = (await response.json()) as { executionName: string };
  printLine(`2. POST ${url} -> ${response.status} ${JSON.stringify(accepted)}`);

  const record = await runtime.engine.wait(accepted.executionName);
  if (!record) throw new Error('the execution did not start');
  printLine(`3. Execution ${record.executionName} ${record.status}. Path through the states:`);
  for (const line of describePath(record)) printLine(`     ${line}`);

  const document = documentOf(record);
  printLine('\n4. Per file:');
  const rows = document.summary.attachments.map((a) => [String(a.attachmentId), a.outcome, a.s3Key ?? '-', a.redacted ? 'yes' : 'no', a.reason ?? '']);
  const header = ['attachment', 'outcome', 'S3 key', 'redacted', 'reason'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const format = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd();
  printLine(`     ${format(header)}`);
  for (const row of rows) printLine(`     ${format(row)}`);

  const after = sandbox.ticket(Number(DEMO_TICKET_ID));
  printLine(`\n5. Zendesk now: ticket tags [${after?.tags.join(', ')}]; the comments hold ${sandbox.comments(Number(DEMO_TICKET_ID)).flatMap((c) => c.attachments).map((a) => a.file_name).join(', ')}.`);
  printLine(`   Slack received ${received.length} message(s): "${received[0]?.text ?? ''}"`);
  printLine(`\nState data and logs hold IDs, sizes, types and keys only. History: ${resolve(runtime.dataDir, 'executions', `${record.executionName}.json`)}`);
  await new Promise<void>((r) => server.close(() => r()));
  exitCode = record.status === 'SUCCEEDED' ? 0 : 1;
} finally {
  await runtime.close();
  slack.close();
}
process.exit(exitCode);
