/**
 * `attachment-vault demo` (what `npm start` runs): the whole product on one machine, on embedded defaults. Seeds a
 * sandbox ticket, delivers a signed Zendesk webhook to the local ingress, runs the unchanged ASL in the local engine,
 * and shows what happened: the path through the states, each file's outcome, and what Zendesk and S3 hold afterwards.
 * The execution's history stays in the data folder (ATTACHMENT_VAULT_DATA_DIR, default .local), where
 * `attachment-vault executions list/show --local` find it; the demo's S3 objects live in memory only.
 */
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { printLine } from './output.js';

/** A stand-in for Slack's incoming webhook, so the demo shows the message the team would read. */
async function startSlackStandIn(): Promise<{ url: string; received: Array<{ text?: string }>; close: () => void }> {
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
  const url = `http://127.0.0.1:${(slack.address() as AddressInfo).port}/services/T000/B000/demo`;
  return { url, received, close: () => slack.close() };
}

function fileTable(rows: string[][]): string[] {
  const header = ['attachment', 'outcome', 'S3 key', 'redacted', 'reason'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const format = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd();
  return [format(header), ...rows.map(format)];
}

export async function runDemo(baseEnv: NodeJS.ProcessEnv = process.env): Promise<number> {
  const slack = await startSlackStandIn();
  const { openLocal, DEMO_TICKET_ID } = await import('../local/runtime/local.js');
  const { startWebhookServer } = await import('./serve.js');
  const { signZendeskPayload } = await import('../lambdas/shared/signature.js');
  const { documentOf } = await import('./run.js');
  const { describePath } = await import('../local/runtime/path.js');

  const env: NodeJS.ProcessEnv = { ...baseEnv, NOTIFY_WEBHOOK_URL: slack.url, NOTIFY_FORMAT: 'slack' };
  for (const key of ['ZENDESK_URL', 'AWS_ENDPOINT_URL_S3', 'ARCHIVE_BUCKET', 'IDEMPOTENCY_TABLE']) delete env[key];
  const runtime = await openLocal({ env, persistS3: false });
  const sandbox = runtime.sandbox!;
  try {
    printLine(`attachment-vault demo: sandbox Zendesk at ${runtime.env.ZENDESK_URL}, embedded S3 bucket ${runtime.env.ARCHIVE_BUCKET}\n`);
    printLine(`1. Ticket ${DEMO_TICKET_ID} is tagged [${sandbox.ticket(Number(DEMO_TICKET_ID))?.tags.join(', ')}]: its trigger sends a signed webhook.`);

    const { server, url } = await startWebhookServer(runtime, { port: 0, host: '127.0.0.1' });
    const body = JSON.stringify({ ticket_id: DEMO_TICKET_ID });
    const timestamp = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    // A fresh invocation id per demo: the history of earlier demos stays, and each name is used once.
    const invocationId = String(BigInt(`0x${randomBytes(6).toString('hex')}`));
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-zendesk-webhook-id': '01DEMOWEBHOOK',
        'x-zendesk-webhook-invocation-id': invocationId,
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
    const rows = document.summary.attachments.map((a) => [a.attachmentId, a.outcome, a.s3Key ?? '-', a.redacted ? 'yes' : 'no', a.reason ?? '']);
    for (const line of fileTable(rows)) printLine(`     ${line}`);

    const after = sandbox.ticket(Number(DEMO_TICKET_ID));
    const names = sandbox.comments(Number(DEMO_TICKET_ID)).flatMap((c) => c.attachments).map((a) => a.file_name);
    printLine(`\n5. Zendesk now: ticket tags [${after?.tags.join(', ')}]; the comments hold ${names.join(', ')}.`);
    printLine(`   Slack received ${slack.received.length} message(s): "${slack.received[0]?.text ?? ''}"`);
    printLine('\nState data and logs hold IDs, sizes, types and keys only. Read the execution again with:');
    printLine(`   npx attachment-vault executions show ${record.executionName} --local`);
    await new Promise<void>((r) => server.close(() => r()));
    return record.status === 'SUCCEEDED' ? 0 : 1;
  } finally {
    await runtime.close();
    slack.close();
  }
}
