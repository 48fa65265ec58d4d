/**
 * The ticket's tags through the real trigger path. A ticket never stays "processing" after an unsuccessful end. Through the real trigger path: an agent tags the
 * ticket, the sandbox's trigger sends the signed webhook to `serve`, the run fails on an S3 outage, the ticket shows
 * vault_failed (not vault_processing); S3 heals, the agent adds the tag again, the trigger fires again (it requires
 * "not vault_processing"), and the new run ends vault_archived without vault_failed. And a request an agent makes while
 * a run is going is not lost: FinishTicket keeps the tag, and its update fires the trigger for another run.
 */
import type { Server } from 'node:http';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { createZendeskAdmin } from '../../cli/zendesk-admin.js';
import { zendeskSetup } from '../../cli/zendesk-setup.js';
import { startWebhookServer } from '../../cli/serve.js';
import type { ExecutionRecord } from '../../local/runtime/history.js';
import { clearFaults, openRig, s3Error, s3Faults, seedTicket, textFile, type FaultRig } from '../faults/harness.js';
import { expectInvariant } from '../faults/invariant.js';

let rig: FaultRig;
let server: Server;

beforeAll(async () => {
  rig = await openRig();
  const started = await startWebhookServer(rig.runtime, { port: 0, host: '127.0.0.1' });
  server = started.server;
  const admin = createZendeskAdmin({
    baseUrl: rig.sandbox.url,
    credentials: { kind: 'api_token', email: rig.runtime.env.ZENDESK_EMAIL!, apiToken: rig.runtime.env.ZENDESK_API_TOKEN! },
  });
  const report = await zendeskSetup({ webhookUrl: started.url, printSecret: true, requestTag: 'vault_archive', processingTag: 'vault_processing' }, { admin });
  // serve reads the signing secret per request: now it is the one Zendesk signs with.
  rig.runtime.env.ZENDESK_WEBHOOK_SECRET = report.signingSecret!;
});

afterAll(async () => {
  await new Promise<void>((r) => server?.close(() => r()));
  await rig?.close();
});

/** The agent adds the request tag in the UI; the trigger's webhook starts a run; returns that run once it ended. */
async function agentRequestsArchive(ticketId: number): Promise<ExecutionRecord> {
  const before = new Set((await rig.runtime.engine.history.list()).map((r) => r.executionName));
  rig.sandbox.agentUpdate(ticketId, { addTags: ['vault_archive'] });
  await rig.sandbox.settleWebhooks();
  const started = (await rig.runtime.engine.history.list()).filter((r) => !before.has(r.executionName) && r.executionName.startsWith(`zd-${ticketId}-`));
  expect(started).toHaveLength(1);
  return (await rig.runtime.engine.wait(started[0]!.executionName))!;
}

test('an S3 outage fails the run: vault_failed, not vault_processing; after healing, re-adding the tag archives the ticket', async () => {
  const ticket = await seedTicket(rig.sandbox, 5101, [[textFile('id-card.txt'), textFile('slip.txt')]]);
  rig.sandbox.agentUpdate(5101, { removeTags: ['vault_archive'] }); // the agent has not asked yet
  s3Faults(rig, { match: { route: /./, times: Infinity }, fault: s3Error(503, 'ServiceUnavailable') });

  const failed = await agentRequestsArchive(5101);
  expect([failed.status, failed.error]).toEqual(['FAILED', 'ArchiveUnavailable']);
  expect(rig.sandbox.ticket(5101)!.tags).toContain('vault_failed');
  expect(rig.sandbox.ticket(5101)!.tags).not.toContain('vault_processing');
  expect(rig.sandbox.redactions.filter((r) => r.ticketId === 5101)).toEqual([]);

  clearFaults(rig);
  const healed = await agentRequestsArchive(5101);
  expect(healed.status).toBe('SUCCEEDED');
  const tags = rig.sandbox.ticket(5101)!.tags;
  expect(tags).toContain('vault_archived');
  expect(tags).not.toContain('vault_failed');
  expect(tags).not.toContain('vault_processing');
  await expectInvariant(rig, ticket, (await import('../../cli/run.js')).documentOf(healed), healed);
});

test('a request tag added while the run is going is kept by FinishTicket, and its update fires the trigger: a second run starts', async () => {
  const ticket = await seedTicket(rig.sandbox, 5102, [[textFile('first.txt')]]);
  rig.sandbox.agentUpdate(5102, { removeTags: ['vault_archive'] });
  let added = false;
  rig.beforeTask = (state) => {
    if (state !== 'RedactVerified' || added) return;
    added = true;
    // The agent adds a file and asks again: the trigger does not fire, the ticket is vault_processing.
    rig.sandbox.addComment(5102, { attachments: [{ fileName: 'second.txt', contentType: 'text/plain', data: Buffer.from('second file\n') }] });
    rig.sandbox.agentUpdate(5102, { addTags: ['vault_archive'] });
  };
  const before = new Set((await rig.runtime.engine.history.list()).map((r) => r.executionName));
  const first = await agentRequestsArchive(5102);
  expect(first.status).toBe('SUCCEEDED');
  await rig.sandbox.settleWebhooks();
  const runs = (await rig.runtime.engine.history.list()).filter((r) => !before.has(r.executionName) && r.executionName.startsWith('zd-5102-'));
  expect(runs).toHaveLength(2);
  const second = runs.find((r) => r.executionName !== first.executionName)!;
  const done = (await rig.runtime.engine.wait(second.executionName))!;
  expect(done.status).toBe('SUCCEEDED');
  const { documentOf } = await import('../../cli/run.js');
  expect(documentOf(done).summary.attachments.map((a) => a.outcome)).toEqual(['archived']);
  expect(rig.sandbox.ticket(5102)!.tags).toEqual(expect.arrayContaining(['vault_archived']));
  expect(rig.sandbox.ticket(5102)!.tags).not.toContain('vault_archive');
  void ticket;
});
