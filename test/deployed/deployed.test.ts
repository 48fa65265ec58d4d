/**
 * What CDK deploys, run without an AWS account (docs/deployed.md): the synthesized bundles in their own processes
 * under a Lambda runtime, with the template's environment, driven by the state machine's rendered definition, against
 * the sandbox Zendesk and emulated S3, DynamoDB, Secrets Manager, Step Functions and STS; the viewer behind its own HTTP
 * API and JWT authorizer. Then every AWS call the bundles (and the sessions they assumed) made is checked against the
 * template's IAM.
 *
 * The tests run in order: the scenarios record the calls the IAM checks evaluate.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { backfillDocument, newRunId } from '../../cli/backfill-local.js';
import { documentOf, type RunDocument } from '../../cli/run.js';
import { runFiles } from '../../lambdas/shared/run-files.js';
import { withRunFiles } from '../../local/runtime/summary.js';
import { checkCalls, formatDenials, formatGrants, readableId, readableResource, type IamReport } from '../../local/deployed/iam/check.js';
import { backfillStateMachineNameOf } from '../../infra/constructs/backfill.js';
import { globMatches } from '../../local/deployed/iam/conditions.js';
import { statementsOf } from '../../local/deployed/iam/evaluate.js';
import { stateMachineInvokeGrants, timeoutMismatches, unpermittedServiceInvocations } from '../../local/deployed/iam/workflow-checks.js';
import type { RecordedCall } from '../../local/deployed/calls.js';
import type { Caller } from '../../local/deployed/harness.js';
import { TemplateResolver, type CfnTemplate } from '../../local/deployed/template.js';
import type { ExecutionRecord } from '../../local/runtime/history.js';
import { generatedSha256 } from '../../local/sandbox/zendesk.js';
import { s3Error } from '../faults/harness.js';
import { AWS, OPERATOR, openDeployedRig, type DeployedRig } from './support.js';

const MiB = 1024 * 1024;
/** A scenario takes a few seconds; the margin is for a machine busy with other work. */
const SCENARIO_TIMEOUT_MS = 180_000;
let rig: DeployedRig;
let s3: S3Client;
let bucket: string;

beforeAll(async () => {
  rig = await openDeployedRig();
  bucket = rig.harness.stack.functions.map((f) => f.environment.ARCHIVE_BUCKET).find(Boolean)!;
  s3 = new S3Client({ endpoint: rig.harness.s3Direct, region: AWS.region, forcePathStyle: true, credentials: OPERATOR });
}, 300_000); // about 20 s on an idle two-core machine; a busy one needs the margin (the synth bundles ten functions)

afterAll(async () => {
  s3?.destroy();
  await rig?.close();
});

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function objectSha(key: string): Promise<string> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return sha256(await object.Body!.transformToByteArray());
}

/** The agent adds the request tag; the trigger's signed webhook reaches the HTTP API; returns the run once it ended. */
async function agentRequestsArchive(ticketId: number): Promise<ExecutionRecord> {
  const before = new Set((await rig.harness.engine.history.list()).map((r) => r.executionName));
  rig.sandbox.agentUpdate(ticketId, { addTags: ['vault_archive'] });
  await rig.sandbox.settleWebhooks();
  const delivery = rig.sandbox.webhookDeliveries.at(-1)!;
  expect([delivery.ticketId, delivery.status]).toEqual([ticketId, 202]);
  const started = (await rig.harness.engine.history.list()).filter((r) => !before.has(r.executionName));
  expect(started.map((r) => r.executionName)).toEqual([`zd-${ticketId}-${delivery.invocationId}`]);
  return (await rig.harness.engine.wait(started[0]!.executionName))!;
}

function withLogsOnFailure<T>(run: () => Promise<T>): Promise<T> {
  return run().catch((error: unknown) => {
    console.error(`last function log lines:\n${rig.logs.slice(-40).join('\n')}`);
    throw error;
  });
}

/** The run's document with every file (a ticket copied in the Distributed Map keeps its lists in the run's files). */
async function wholeDocument(record: ExecutionRecord): Promise<RunDocument> {
  return documentOf(await withRunFiles(record, (ref) => runFiles(s3, ref.bucket).read(ref)));
}

const fileOf = (doc: RunDocument, id: number) => doc.summary.attachments.find((a) => a.attachmentId === String(id));
const eventsOf = (executionName: string) => rig.harness.deliveredEvents.filter((e) => e.executionName === executionName);
const resultOf = (outcome: unknown) => JSON.parse((outcome as { payload: string }).payload) as Record<string, unknown>;
const fnNamed = (prefix: string) => rig.harness.stack.functions.find((f) => f.logicalId.startsWith(prefix))!;

describe('what is deployed', () => {
  it('runs each function from its staged bundle, with the template environment; only ZENDESK_URL and ZENDESK_CONTENT_HOSTS differ', () => {
    expect(rig.harness.stack.functions.length).toBeGreaterThanOrEqual(8);
    for (const fn of rig.harness.stack.functions) {
      const env = rig.harness.environmentOf(fn);
      const changed = Object.keys(fn.environment).filter((k) => env[k] !== fn.environment[k]);
      expect([fn.logicalId, changed.sort()]).toEqual([fn.logicalId, ['ZENDESK_CONTENT_HOSTS', 'ZENDESK_URL'].filter((k) => k in fn.environment)]);
      expect([fn.logicalId, env.LAMBDA_TASK_ROOT, env._HANDLER]).toEqual([fn.logicalId, fn.codeDir, fn.handler]);
    }
  });

  it('drives the definitions Step Functions would run: each machine’s Tasks name the template’s functions, no placeholder left', () => {
    const machines = rig.harness.stateMachines.map((m) => m.stateMachine);
    // The per-ticket machine first (the webhook starts it), then the backfill (an operator starts it).
    expect(machines.map((m) => m.name)).toEqual([rig.harness.stateMachine.name, backfillStateMachineNameOf(rig.harness.stack.resolver.env.stackName)]);
    // The Distributed Maps' ItemReader and ResultWriter name the S3 integrations, the backfill's items the per-ticket
    // machine's .sync integration; every other Resource is a function.
    const integrations: Record<string, string[]> = {
      [machines[0]!.name]: ['arn:aws:states:::s3:getObject', 'arn:aws:states:::s3:putObject'],
      [machines[1]!.name]: ['arn:aws:states:::s3:getObject', 'arn:aws:states:::s3:putObject', 'arn:aws:states:::states:startExecution.sync:2'],
    };
    for (const { name, definition } of machines) {
      expect(definition).not.toMatch(/\$\{[A-Za-z0-9_]+\}/);
      const resources = [...definition.matchAll(/"Resource"\s*:\s*"([^"]+)"/g)].map((m) => m[1]!);
      const services = integrations[name]!;
      for (const arn of resources.filter((r) => !services.includes(r))) expect([name, rig.harness.stack.functions.map((f) => f.arn)]).toEqual([name, expect.arrayContaining([arn])]);
      expect([name, [...new Set(resources.filter((r) => services.includes(r)))].sort()]).toEqual([name, services]);
    }
    expect(JSON.stringify(JSON.parse(machines[1]!.definition))).toContain(`"StateMachineArn":"${machines[0]!.arn}"`);
  });
});

describe('scenarios', () => {
  it('happy path: tag -> signed webhook (API Gateway v2 event) -> archived, verified, redacted, tagged, notified', () =>
    withLogsOnFailure(async () => {
      const { sandbox } = rig;
      const pdf = Buffer.from('%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n');
      const large = { size: 7 * MiB, seed: 14 };
      sandbox.createTicket({ id: 5001, status: 'open' });
      const comment = sandbox.addComment(5001, { attachments: [{ fileName: 'id-card.pdf', contentType: 'application/pdf', data: pdf }, { fileName: 'statement', contentType: 'application/octet-stream', data: large }] });
      const [small, big] = comment.attachments.map((a) => a.id) as [number, number];
      // A second run asked for while this one copies (a CLI rerun through StartExecution) ends AlreadyRunning.
      const sfn = new SFNClient({ endpoint: rig.harness.sfnUrl, region: AWS.region, credentials: OPERATOR });
      let second: ExecutionRecord | undefined;
      rig.hooks.beforeTask = async (state) => {
        if (state !== 'CopyAttachment' || second) return;
        second = {} as ExecutionRecord;
        const started = await sfn.send(new StartExecutionCommand({ stateMachineArn: rig.harness.stateMachine.arn, name: 'rerun-5001-during', input: JSON.stringify({ ticketId: '5001', source: 'rerun' }) }));
        second = await rig.harness.engine.wait(started.executionArn!.split(':').pop()!);
      };
      const record = await agentRequestsArchive(5001).finally(() => {
        rig.hooks.beforeTask = undefined;
        sfn.destroy();
      });

      const doc = documentOf(record);
      expect([doc.status, doc.error]).toEqual(['SUCCEEDED', undefined]);
      expect(doc.summary.attachments.map((a) => [a.attachmentId, a.outcome, a.redacted])).toEqual([
        [String(small), 'archived', true],
        [String(big), 'archived', true],
      ]);
      expect(await objectSha(`tickets/5001/${small}.pdf`)).toBe(sha256(pdf));
      expect(await objectSha(fileOf(doc, big)!.s3Key!)).toBe(await generatedSha256(large));
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `tickets/5001/${small}.pdf` }));
      expect(head.Metadata?.sha256).toBe(sha256(pdf));
      expect(sandbox.comments(5001).flatMap((c) => c.attachments.map((a) => a.file_name))).toEqual(['redacted.txt', 'redacted.txt']);
      expect(sandbox.ticket(5001)!.tags).toEqual(expect.arrayContaining(['vault_archived']));
      expect(sandbox.ticket(5001)!.tags).not.toContain('vault_processing');
      expect(rig.notifications.at(-1)?.text).toContain('Ticket 5001');
      expect(second && documentOf(second)).toMatchObject({ status: 'SUCCEEDED', outcome: 'already_running', runningExecution: record.executionName });

      // Zendesk retries a delivery it did not hear back from: the same signed request is a duplicate, not a second run.
      const delivery = sandbox.webhookDeliveries.at(-1)!;
      const repeat = await fetch(delivery.endpoint, { method: 'POST', headers: delivery.headers, body: delivery.body });
      expect([repeat.status, await repeat.json()]).toEqual([200, { executionName: record.executionName, duplicate: true }]);
    }),
  SCENARIO_TIMEOUT_MS);

  it('per-file failures in the Distributed Map: a download always cut short fails its file (multipart aborted); a copy gone before redaction is not redacted', () =>
    withLogsOnFailure(async () => {
      const { sandbox } = rig;
      sandbox.createTicket({ id: 5002, status: 'open' });
      const comment = sandbox.addComment(5002, {
        attachments: [
          { fileName: 'ok.txt', contentType: 'text/plain', data: Buffer.from('kept\n') },
          { fileName: 'broken.bin', contentType: 'application/octet-stream', data: { size: 6 * MiB, seed: 22 } },
          { fileName: 'vanishing.txt', contentType: 'text/plain', data: Buffer.from('gone before redaction\n') },
        ],
      });
      const [ok, broken, vanishing] = comment.attachments.map((a) => a.id) as [number, number, number];
      sandbox.faults.add({ match: { route: new RegExp(`^/attachment/${broken}$`), times: Infinity }, fault: { kind: 'truncate', afterBytes: 5.5 * MiB } });
      rig.hooks.beforeTask = async (state) => {
        if (state !== 'RedactVerified') return;
        rig.hooks.beforeTask = undefined;
        await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `tickets/5002/${vanishing}.txt` }));
        rig.harness.s3.forget(bucket, `tickets/5002/${vanishing}.txt`);
      };
      const record = await agentRequestsArchive(5002).finally(() => {
        rig.hooks.beforeTask = undefined;
        sandbox.faults.clear();
      });

      // Three files, more than this synth's copyInlineMaxFiles (2): copied in the Distributed Map.
      expect(record.events.some((e) => e.type === 'StateEntered' && e.state === 'CopyAttachmentsAtScale')).toBe(true);
      expect(record.events.filter((e) => e.type === 'MapIterationStarted' && e.state === 'CopyAttachmentsAtScale')).toHaveLength(3);
      const doc = await wholeDocument(record);
      expect([doc.status, doc.error]).toEqual(['FAILED', 'AttachmentsNotArchived']);
      expect(fileOf(doc, ok)).toMatchObject({ outcome: 'archived', redacted: true });
      expect(fileOf(doc, broken)).toMatchObject({ outcome: 'failed', redacted: false, reason: 'DownloadIncomplete' });
      expect(fileOf(doc, vanishing)).toMatchObject({ outcome: 'archived', redacted: false });
      expect(sandbox.ticket(5002)!.tags).toContain('vault_failed');
      const left = sandbox.comments(5002).flatMap((c) => c.attachments.map((a) => a.file_name));
      expect(left.sort()).toEqual(['broken.bin', 'redacted.txt', 'vanishing.txt']);
      expect(rig.harness.calls.by(`AKID-${fnNamed('WorkflowCopyAttachment').logicalId}`).some((c) => c.operation === 'AbortMultipartUpload')).toBe(true);
      // EventBridge hands the FAILED end to release-ticket (the tags were already set) and notify (it reported itself).
      const delivered = eventsOf(record.executionName);
      expect(delivered.filter((d) => d.outcome).map((d) => [d.targetArn, resultOf(d.outcome)])).toEqual(
        expect.arrayContaining([
          [fnNamed('WorkflowReleaseTicket').arn, expect.objectContaining({ outcome: 'unchanged', ticketId: '5002' })],
          [fnNamed('WorkflowNotify').arn, expect.objectContaining({ delivered: false, format: 'none' })],
        ]),
      );
    }),
  SCENARIO_TIMEOUT_MS);

  it('an S3 outage fails the Map; EventBridge tells release-ticket and notify; healed, a redrive archives the ticket', () =>
    withLogsOnFailure(async () => {
      const { sandbox, harness } = rig;
      sandbox.createTicket({ id: 5003, status: 'open' });
      const [file] = sandbox.addComment(5003, { attachments: [{ fileName: 'slip.txt', contentType: 'text/plain', data: Buffer.from('bank slip\n') }] }).attachments;
      const outage = harness.s3.proxy.faults.add({ match: { route: 'PutObject', times: Infinity }, fault: s3Error(503, 'ServiceUnavailable') });
      const failed = await agentRequestsArchive(5003).finally(() => harness.s3.proxy.faults.clear());

      expect([failed.status, failed.error]).toEqual(['FAILED', 'ArchiveUnavailable']);
      expect(outage.fired).toBeGreaterThan(1);
      // The cause is what the function returned, as Step Functions records it: {errorType, errorMessage, trace}.
      expect(JSON.parse(failed.cause!)).toMatchObject({ errorType: 'ArchiveUnavailable', errorMessage: expect.stringContaining('HTTP 503') });
      const delivered = eventsOf(failed.executionName);
      expect(delivered.filter((d) => 'notDelivered' in d.input).length).toBeGreaterThan(0); // the SNS target
      expect(delivered.filter((d) => d.outcome).map((d) => [d.targetArn, resultOf(d.outcome)])).toEqual(
        expect.arrayContaining([
          [fnNamed('WorkflowReleaseTicket').arn, expect.objectContaining({ outcome: 'released', ticketId: '5003' })],
          [fnNamed('WorkflowNotify').arn, expect.objectContaining({ delivered: true })],
        ]),
      );
      expect(sandbox.ticket(5003)!.tags).toContain('vault_failed');
      expect(sandbox.ticket(5003)!.tags).not.toContain('vault_processing');
      expect(rig.notifications.at(-1)?.text).toContain('ArchiveUnavailable');

      const redriven = await (await harness.engine.redrive(failed.executionName)).done;
      expect(documentOf(redriven)).toMatchObject({ status: 'SUCCEEDED', summary: { attachments: [{ attachmentId: String(file!.id), outcome: 'archived', redacted: true }] } });
      expect(sandbox.ticket(5003)!.tags).toContain('vault_archived');
      expect(sandbox.ticket(5003)!.tags).not.toContain('vault_failed');
    }),
  SCENARIO_TIMEOUT_MS);

  it('the viewer (its own HTTP API, JWT authorizer): a reader finds ticket 5001’s files by ticket and requester, and views and downloads one through audited 5-minute links', () =>
    withLogsOnFailure(async () => {
      const { harness } = rig;
      const api = harness.apis.find((a) => a.routeKeys.includes('GET /api/{proxy+}'))!;
      const [authorizer] = api.authorizers;
      const token = (claims: Record<string, unknown>) => harness.jwt.issue({ iss: authorizer!.issuer, aud: authorizer!.audience[0], token_use: 'id', ...claims });
      const reader = token({ sub: 'u-1', email: 'reader@acme.example', 'cognito:groups': ['vault-readers', 'support'] });
      const call = (path: string, bearer?: string, body?: unknown) =>
        fetch(`${api.url}${path}`, { method: body ? 'POST' : 'GET', headers: { ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });

      // The page loads without a token; the API refuses requests the authorizer does not accept, before the function.
      const page = await call('/');
      expect([page.status, page.headers.get('content-security-policy')]).toEqual([200, expect.stringContaining("default-src 'none'")]);
      const invoked = harness.serviceInvocations.length;
      expect((await call('/api/files?ticket=5001')).status).toBe(401);
      expect((await call('/api/files?ticket=5001', token({ sub: 'u-1', email: 'reader@acme.example', aud: 'another-client' }))).status).toBe(401);
      expect((await call('/api/files?ticket=5001', token({ sub: 'u-1', exp: Math.floor(Date.now() / 1000) - 1 }))).status).toBe(401);
      expect(harness.serviceInvocations.length).toBe(invoked);
      // A signed-in person outside the readers' group is refused by the function.
      expect((await call('/api/files?ticket=5001', token({ sub: 'u-2', email: 'agent@acme.example', 'cognito:groups': ['support'] }))).status).toBe(403);

      // The copy step indexed both files (listed in the order they were archived), the redaction step marked them redacted.
      const byTicket = (await (await call('/api/files?ticket=5001', reader)).json()) as { files: Array<Record<string, unknown>> };
      expect(byTicket.files.map((f) => [f.fileName, f.contentType, f.requesterId, typeof f.redactedAt]).sort()).toEqual([
        ['id-card.pdf', 'application/pdf', '5005001', 'string'],
        ['statement', 'application/octet-stream', '5005001', 'string'],
      ]);
      const byRequester = (await (await call('/api/files?requester=5005001', reader)).json()) as { files: Array<Record<string, unknown>> };
      expect(byRequester.files.map((f) => f.attachmentId)).toEqual(byTicket.files.map((f) => f.attachmentId));

      const pdf = byTicket.files.find((f) => f.fileName === 'id-card.pdf')!;
      for (const action of ['view', 'open'] as const) {
        const opened = await call('/api/open', reader, { attachmentId: pdf.attachmentId, reason: 'DSAR 42: the customer asked for their ID', action });
        const link = (await opened.json()) as { url: string; expiresAt: string };
        expect(opened.status).toBe(200);
        const url = new URL(link.url);
        expect([url.origin, url.searchParams.get('X-Amz-Expires'), url.searchParams.get('X-Amz-Credential')?.slice(0, 4)]).toEqual([harness.s3.url, '300', 'ASIA']);
        expect(Date.parse(link.expiresAt) - Date.now()).toBeLessThanOrEqual(300_000);
        // The person's browser follows the link: the exact bytes, under the original name.
        const object = await fetch(link.url);
        expect([object.status, sha256(new Uint8Array(await object.arrayBuffer()))]).toEqual([200, pdf.sha256]);
        expect(object.headers.get('content-disposition')).toMatch(action === 'view' ? /^inline;.*id-card\.pdf/ : /^attachment;.*id-card\.pdf/);
      }
      // Each link was signed by a session of the signer role named after the person, limited to that one object.
      const sessions = harness.sts.sessions.filter((x) => x.sessionName === 'reader@acme.example');
      expect(sessions.map((x) => [x.roleArn, x.sourceIdentity])).toEqual([
        [harness.environmentOf(fnNamed('ViewerFunction')).ARCHIVE_SIGNER_ROLE_ARN, 'reader@acme.example'],
        [harness.environmentOf(fnNamed('ViewerFunction')).ARCHIVE_SIGNER_ROLE_ARN, 'reader@acme.example'],
      ]);
      expect(JSON.parse(sessions[0]!.policy!).Statement[0]).toMatchObject({ Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: `arn:aws:s3:::${bucket}/${String(pdf.s3Key)}` });

      const audit = (await (await call('/api/audit?ticket=5001', reader)).json()) as { entries: Array<Record<string, unknown>> };
      expect(audit.entries.map((e) => [e.action, e.attachmentId, e.actor, e.reason])).toEqual([
        ['view', pdf.attachmentId, 'reader@acme.example', 'DSAR 42: the customer asked for their ID'],
        ['open', pdf.attachmentId, 'reader@acme.example', 'DSAR 42: the customer asked for their ID'],
      ]);
    }),
  SCENARIO_TIMEOUT_MS);

  it('a backfill through the deployed backfill machine: three tickets of a past window selected by Export Search, each run by the per-ticket machine as bf-<runId>-<ticketId>, reported', () =>
    withLogsOnFailure(async () => {
      const { sandbox, harness } = rig;
      const tickets = (['open', 'solved', 'closed'] as const).map((status, i) => {
        const ticket = sandbox.createTicket({ status, createdAt: `2024-01-0${i + 2}T09:00:00Z` });
        const [file] = sandbox.addComment(ticket.id, { attachments: [{ fileName: `t${ticket.id}.txt`, contentType: 'text/plain', data: Buffer.from(`ticket ${ticket.id}\n`) }] }).attachments;
        return { id: String(ticket.id), file: file!.id };
      });
      // Outside the window: never selected.
      const outside = sandbox.createTicket({ status: 'open', createdAt: '2024-02-01T00:00:00Z' });
      sandbox.addComment(outside.id, { attachments: [{ fileName: 'later.txt', contentType: 'text/plain', data: Buffer.from('later\n') }] });

      // The operator starts it as `attachment-vault backfill` does: StartExecution of the backfill machine.
      const backfill = harness.stateMachines[1]!;
      const runId = newRunId();
      const sfn = new SFNClient({ endpoint: harness.sfnUrl, region: AWS.region, credentials: OPERATOR });
      const started = await sfn
        .send(new StartExecutionCommand({ stateMachineArn: backfill.stateMachine.arn, name: `backfill-${runId}`, input: JSON.stringify({ runId, since: '2024-01-01', until: '2024-01-31', query: '', maxConcurrency: 2 }) }))
        .finally(() => sfn.destroy());
      const record = (await backfill.engine.wait(started.executionArn!.split(':').pop()!))!;

      expect([record.status, record.error]).toEqual(['SUCCEEDED', undefined]);
      const doc = backfillDocument(record, runId);
      expect([doc.status, doc.tickets, doc.succeeded, doc.failed]).toEqual(['SUCCEEDED', 3, 3, 0]);
      const manifest = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `backfill/${runId}/tickets.jsonl` }));
      expect((await manifest.Body!.transformToString()).trim().split('\n').map((l) => (JSON.parse(l) as { ticketId: string }).ticketId)).toEqual(tickets.map((t) => t.id));
      // One execution of the per-ticket machine per ticket, under the backfill's name; each file archived and redacted.
      for (const ticket of tickets) {
        const run = (await harness.engine.wait(`bf-${runId}-${ticket.id}`))!;
        expect([ticket.id, run.status, run.input]).toEqual([ticket.id, 'SUCCEEDED', expect.objectContaining({ ticketId: ticket.id, source: 'backfill', runId })]);
        expect(documentOf(run).summary.attachments.map((a) => [a.attachmentId, a.outcome, a.redacted])).toEqual([[String(ticket.file), 'archived', true]]);
      }
      expect(sandbox.comments(outside.id).flatMap((c) => c.attachments.map((a) => a.file_name))).toEqual(['later.txt']);
      expect((await harness.engine.history.list()).filter((r) => r.executionName.startsWith(`bf-${runId}-`))).toHaveLength(3);

      // The backfill machine's own calls: its Lambdas, StartExecution of the per-ticket machine and DescribeExecution
      // of its bf- executions (the .sync integration), the manifest read and the results written under backfill/.
      const own = harness.calls.by(`AKID-${backfill.stateMachine.logicalId}`);
      const ticketExecution = (id: string) => `${harness.stateMachine.arn.replace(':stateMachine:', ':execution:')}:bf-${runId}-${id}`;
      expect(own.filter((c) => c.service === 'states').map((c) => [c.operation, c.resourceArn]).sort()).toEqual(
        tickets.flatMap((t) => [['DescribeExecution', ticketExecution(t.id)], ['StartExecution', harness.stateMachine.arn]]).sort(),
      );
      const objects = own.filter((c) => c.service === 's3').map((c) => [c.operation, c.s3!.key]);
      expect(objects).toEqual(expect.arrayContaining([['GetObject', `backfill/${runId}/tickets.jsonl`], ['PutObject', expect.stringMatching(/^backfill\/map-results\/.+\/manifest\.json$/)]]));
      expect(objects.every(([, key]) => key!.startsWith('backfill/'))).toBe(true);
    }),
  SCENARIO_TIMEOUT_MS);
});


const INDEX_KEY_USE =
  'DynamoDB asks KMS only for kms:Decrypt of the table key on an item call (checked on every call here); AWS lists Encrypt, GenerateDataKey and DescribeKey among what DynamoDB needs on a customer managed key, for the table key itself: kept until CloudTrail in a real account shows DynamoDB never asks them of this role';
const BACKFILL_REDRIVE = 'only a redriven backfill finds a ticket’s execution name already taken';
const SIGNER_CLI = 'archive list, open and audit (the CLI) run in a per-person session of the signer role; the viewer’s sessions only sign links';

/**
 * Grants these scenarios do not exercise, each needed on a path they do not take, keyed `<role> <action> <resource>`
 * in the template's words (readableResource; `*` in a key matches any run of characters). Any other grant that no call
 * used fails the test: remove it from infra/, or add it here with its reason.
 */
const NEEDED_BUT_NOT_EXERCISED: Record<string, string> = {
  'WorkflowStateMachineRole s3:AbortMultipartUpload ArchiveBucket/runs/*': 'the ResultWriter may upload a large results file in parts (granted as for CDK’s DistributedMap)',
  'WorkflowStateMachineRole s3:ListMultipartUploadParts ArchiveBucket/runs/*': 'the ResultWriter may upload a large results file in parts (granted as for CDK’s DistributedMap)',
  'WorkflowStateMachineRole states:StartExecution WorkflowStateMachine': 'a Map Run starts its children as the machine’s role in AWS; the local Map Run adapter runs them in process',
  'WorkflowStateMachineRole states:DescribeExecution execution:WorkflowStateMachine*': 'a Map Run watches its children as the machine’s role in AWS; the local Map Run adapter runs them in process',
  'WorkflowStateMachineRole states:StopExecution execution:WorkflowStateMachine*': 'a Map Run stops its children when it fails or its execution is stopped',
  'WorkflowStateMachineRole states:RedriveExecution execution:WorkflowStateMachine*': 'a redriven execution redrives its Map Run’s failed children',
  'IngressWebhookRole dynamodb:DeleteItem IdempotencyTable': 'gives a delivery record back when StartExecution fails, so that Zendesk’s retry can start the run',
  'WorkflowCopyAttachmentRole dynamodb:GetItem IdempotencyTable': 'Powertools reads the record when a conditional write is refused without the old item',
  'WorkflowRedactVerifiedRole dynamodb:GetItem IdempotencyTable': 'Powertools reads the record when a conditional write is refused without the old item',
  'WorkflowRedactVerifiedRole dynamodb:DeleteItem IdempotencyTable': 'Powertools deletes the record when a redaction fails, and an unconfirmed redaction is forgotten',
  ...Object.fromEntries(
    ['WorkflowCopyAttachmentRole', 'WorkflowRedactVerifiedRole', 'ViewerFunctionRole', 'ArchiveRolesSigner'].flatMap((role) =>
      ['kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'].map((action) => [`${role} ${action} ArchiveKey`, INDEX_KEY_USE]),
    ),
  ),
  'ArchiveRolesSigner s3:GetObjectVersion ArchiveBucket/tickets/*': 'links name the object version the index recorded; the S3 emulator (fauxqs) keeps no versions, so here the index has none',
  'ArchiveRolesSigner dynamodb:GetItem ArchiveIndex': SIGNER_CLI,
  'ArchiveRolesSigner dynamodb:Query ArchiveIndex/index/*': SIGNER_CLI,
  'ArchiveRolesSigner dynamodb:PutItem ArchiveIndexAudit': SIGNER_CLI,
  'ArchiveRolesSigner dynamodb:Query ArchiveIndexAudit/index/*': SIGNER_CLI,
  'ArchiveRolesSigner dynamodb:Scan ArchiveIndexAudit': `${SIGNER_CLI} (archive audit without a filter scans the trail)`,
  'ArchiveRolesSigner kms:Decrypt ArchiveKey': `${SIGNER_CLI}: the index and audit tables through DynamoDB (its kms:Decrypt through S3 is used by the links)`,
  'BackfillSelectTicketsRole s3:AbortMultipartUpload ArchiveBucket/backfill/*': 'SelectTickets joins its parts with an upload in parts once the manifest passes 5 MiB, aborted if the join fails',
  'BackfillLookUpTicketRunRole states:DescribeExecution execution:WorkflowStateMachine:bf-*': `${BACKFILL_REDRIVE}: LookUpTicketRun reads how that ticket’s execution ended`,
  'BackfillStateMachineRole lambda:InvokeFunction BackfillLookUpTicketRunFunction': BACKFILL_REDRIVE,
  'BackfillStateMachineRole states:StopExecution execution:WorkflowStateMachine:bf-*': 'the .sync integration stops a ticket’s execution when its backfill item is stopped (the backfill stopped, or its Map Run past its tolerated failures)',
  'BackfillStateMachineRole events:* rule/StepFunctionsGetEventsForStepFunctionsExecutionRule': 'the .sync integration’s EventBridge rule, which Step Functions manages with the role (the local adapter waits on the engine)',
  'BackfillStateMachineRole s3:AbortMultipartUpload ArchiveBucket/backfill/*': 'the ResultWriter may upload a large results file in parts (granted as for CDK’s DistributedMap)',
  'BackfillStateMachineRole s3:ListMultipartUploadParts ArchiveBucket/backfill/*': 'the ResultWriter may upload a large results file in parts (granted as for CDK’s DistributedMap)',
  'BackfillStateMachineRole states:StartExecution BackfillStateMachine': 'a Map Run starts its children as the machine’s role in AWS; the local Map Run adapter runs them in process',
  'BackfillStateMachineRole states:DescribeExecution execution:BackfillStateMachine*': 'a Map Run watches its children as the machine’s role in AWS; the local Map Run adapter runs them in process',
  'BackfillStateMachineRole states:StopExecution execution:BackfillStateMachine*': 'a Map Run stops its children when it fails or its execution is stopped',
  'BackfillStateMachineRole states:RedriveExecution execution:BackfillStateMachine*': 'a redriven backfill redrives its Map Run’s failed children',
};

/** Functions and state machines no scenario runs, each with its reason; every other one must have made calls. */
const NOT_RUN: Record<string, string> = {
  BackfillLookUpTicketRunFunction: BACKFILL_REDRIVE,
};

const listed = (key: string) => Object.keys(NEEDED_BUT_NOT_EXERCISED).some((pattern) => globMatches(pattern, key));

/** `<role> <action> <resource>` in the template's words (readableResource): the key of NEEDED_BUT_NOT_EXERCISED. */
const grantKey = (g: { role: string; action: string; resource: string }) => `${readableId(g.role)} ${g.action} ${readableResource(rig.harness.stack.resolver, g.resource)}`;

describe('every call against the template’s IAM', () => {
  let report: IamReport;
  const check = (template: CfnTemplate = rig.harness.stack.template, calls: RecordedCall[] = rig.harness.calls.calls, callers: Caller[] = rig.harness.callers) =>
    checkCalls(calls, new TemplateResolver(template, rig.harness.stack.resolver.env), callers, AWS);

  beforeAll(() => {
    report = check();
  });

  it('recorded calls from every function and state machine a scenario runs (the others are listed with their reason)', () => {
    const callers = new Set(rig.harness.calls.calls.map((c) => c.accessKeyId));
    for (const caller of rig.harness.callers) expect([caller.logicalId, callers.has(caller.accessKeyId)]).toEqual([caller.logicalId, !(readableId(caller.logicalId) in NOT_RUN)]);
    expect(report.unmapped).toEqual([]);
    expect(report.evaluated).toBeGreaterThan(100);
  });

  it('recorded the copy step’s reads of its copy reference and both steps’ writes to the archive index as theirs, each with the key DynamoDB uses for them', () => {
    const indexTable = rig.harness.environmentOf(fnNamed('WorkflowCopyAttachment')).ARCHIVE_INDEX_TABLE;
    for (const [step, operations] of [['WorkflowCopyAttachment', ['GetItem', 'UpdateItem']], ['WorkflowRedactVerified', ['UpdateItem']]] as const) {
      const calls = rig.harness.calls.by(`AKID-${fnNamed(step).logicalId}`).filter((c) => c.dynamodb?.tableName === indexTable);
      expect([step, [...new Set(calls.map((c) => c.operation))].sort()]).toEqual([step, operations]);
      expect(calls.filter((c) => c.operation === 'UpdateItem' && c.status === 200).length).toBeGreaterThanOrEqual(2);
      // Each one: dynamodb:GetItem or UpdateItem on the index, and kms:Decrypt of its table key through DynamoDB.
      const checked = check(undefined, calls);
      expect([checked.evaluated, checked.denials]).toEqual([calls.length * 2, []]);
    }
  });

  it('recorded each Zendesk-calling function taking from the request budget (conditional UpdateItem of its table’s windows), each call allowed', () => {
    const takers = rig.harness.stack.functions.filter((f) => f.environment.ZENDESK_BUDGET_TABLE !== undefined);
    const run = takers.filter((f) => !(readableId(f.logicalId) in NOT_RUN));
    expect(takers.map((f) => readableId(f.logicalId)).sort()).toEqual([
      'BackfillSelectTicketsFunction',
      'WorkflowCopyAttachmentFunction',
      'WorkflowFinishTicketFunction',
      'WorkflowListAttachmentsFunction',
      'WorkflowMarkTicketFunction',
      'WorkflowRedactVerifiedFunction',
      'WorkflowReleaseTicketFunction',
    ]);
    for (const fn of run) {
      const budget = rig.harness.calls.by(`AKID-${fn.logicalId}`).filter((c) => c.dynamodb?.tableName === fn.environment.ZENDESK_BUDGET_TABLE);
      expect([readableId(fn.logicalId), [...new Set(budget.map((c) => c.operation))].sort()]).toEqual([readableId(fn.logicalId), ['UpdateItem']]);
      // The budget table is encrypted with the AWS managed key: each call is one permission, its table's.
      const checked = check(undefined, budget);
      expect([readableId(fn.logicalId), checked.evaluated, checked.denials]).toEqual([readableId(fn.logicalId), budget.length, []]);
    }
  });

  it('allows every call each function made (identity policies, the bucket policy and the key policy)', () => {
    expect(formatDenials(report.denials)).toBe('');
  });

  it('lists the grants no call used; each one left is needed on a path these scenarios do not take', () => {
    const qualified = report.unused.filter((g) => /:lambda:.*:function:[^:]+:\*$/.test(g.resource));
    const unused = report.unused.filter((g) => !qualified.includes(g));
    console.log(
      `Over-grants (allowed, never called):\n${formatGrants(unused) || '(none)'}\n` +
        `Qualified function ARNs granted by grantInvoke (accepted): ${qualified.length}\n` +
        `Used by the Lambda and Step Functions services on the roles' behalf (not observable here): ${[...new Set(report.serviceSide.map((g) => g.action))].sort().join(', ')}`,
    );
    expect(unused.map(grantKey).filter((k) => !listed(k))).toEqual([]);
    // And the list holds no grant a scenario now uses: each key still matches a grant left unused.
    expect(Object.keys(NEEDED_BUT_NOT_EXERCISED).filter((pattern) => !unused.some((g) => globMatches(pattern, grantKey(g))))).toEqual([]);
  });

  it('lets each state machine invoke exactly the functions its definition references, each Task outlasting its function', () => {
    for (const { stateMachine } of rig.harness.stateMachines) {
      expect([stateMachine.name, stateMachineInvokeGrants(rig.harness.stack, stateMachine)]).toEqual([stateMachine.name, { notAllowed: [], extra: [] }]);
      expect([stateMachine.name, timeoutMismatches(rig.harness.stack, stateMachine)]).toEqual([stateMachine.name, []]);
    }
  });

  it('lets API Gateway and EventBridge invoke the functions they invoked (AWS::Lambda::Permission)', () => {
    expect(rig.harness.serviceInvocations.map((s) => s.principal).sort()).toEqual(expect.arrayContaining(['apigateway.amazonaws.com', 'events.amazonaws.com']));
    expect(unpermittedServiceInvocations(rig.harness.stack, rig.harness.serviceInvocations)).toEqual([]);
  });

  /** A change to the template (or to what was recorded) that must make the recorded calls fail, with this denial. */
  type Mutation = {
    name: string;
    expected: RegExp;
    mutate?: (template: CfnTemplate) => void;
    calls?: (calls: RecordedCall[]) => RecordedCall[];
    callers?: (callers: Caller[]) => Caller[];
  };
  type Statement = { Sid?: string; Effect?: string; Action: string | string[]; Principal?: unknown; Condition?: Record<string, Record<string, unknown>> };
  const statementsOfRole = (template: CfnTemplate, rolePrefix: string) => {
    const policy = Object.values(template.Resources).find(
      (r) => r.Type === 'AWS::IAM::Policy' && ((r.Properties?.Roles ?? []) as Array<{ Ref: string }>).some((ref) => ref.Ref.startsWith(rolePrefix)),
    );
    return (policy!.Properties!.PolicyDocument as { Statement: Statement[] }).Statement;
  };
  const withoutAction = (template: CfnTemplate, rolePrefix: string, action: string) => {
    const statements = statementsOfRole(template, rolePrefix);
    for (const s of statements) s.Action = ([] as string[]).concat(s.Action).filter((a) => a !== action);
    statements.splice(0, statements.length, ...statements.filter((s) => ([] as string[]).concat(s.Action).length > 0));
  };
  const withoutStatement = (statements: Statement[], drop: (s: Statement) => boolean) => statements.splice(0, statements.length, ...statements.filter((s) => !drop(s)));
  const resourceOf = (template: CfnTemplate, prefix: string) => Object.entries(template.Resources).find(([id]) => id.startsWith(prefix))![1];
  const keyPolicyDeny = (template: CfnTemplate) =>
    (resourceOf(template, 'ArchiveKey').Properties!.KeyPolicy as { Statement: Statement[] }).Statement.find((s) => s.Sid === 'DenyDecryptExceptVaultReaders')!;
  const indexReadDeny = (template: CfnTemplate) =>
    ((resourceOf(template, 'ArchiveIndex').Properties!.ResourcePolicy as { PolicyDocument: { Statement: Statement[] } }).PolicyDocument.Statement.find((s) => s.Sid === 'DenyIndexReadsExceptArchiveReaders')!.Condition!.ArnNotEquals as Record<string, unknown[]>);
  const presigned = (c: RecordedCall) => c.s3?.signature?.presigned === true;
  const mutations: Mutation[] = [
    { name: 'kms:GenerateDataKey from the copy role', expected: /WorkflowCopyAttachmentFunction\w+ \(role WorkflowCopyAttachmentRole\w+\) is not allowed kms:GenerateDataKey on arn:aws:kms:[^:]+:\d+:key\//, mutate: (t) => withoutAction(t, 'WorkflowCopyAttachmentRole', 'kms:GenerateDataKey') },
    { name: 's3:ListBucket from the copy role', expected: /is not allowed s3:ListBucket on arn:aws:s3:::attachmentvault-archivebucket\w+:/, mutate: (t) => withoutAction(t, 'WorkflowCopyAttachmentRole', 's3:ListBucket') },
    { name: 'secretsmanager:GetSecretValue from the webhook role', expected: /IngressWebhookFunction\w+ \(role IngressWebhookRole\w+\) is not allowed secretsmanager:GetSecretValue on arn:aws:secretsmanager:[^ ]+:secret:SecretsWebhookSigningSecret/, mutate: (t) => withoutAction(t, 'IngressWebhookRole', 'secretsmanager:GetSecretValue') },
    {
      name: 'the request budget from the MarkTicket role (ZendeskRequestBudget)',
      expected: /WorkflowMarkTicketFunction\w+ \(role WorkflowMarkTicketRole\w+\) is not allowed dynamodb:UpdateItem on arn:aws:dynamodb:[^ ]+:table\/\S+RequestBudgetTable\w+: no Allow statement/,
      mutate: (t) => withoutStatement(statementsOfRole(t, 'WorkflowMarkTicketRole'), (s) => s.Sid === 'ZendeskRequestBudget'),
    },
    {
      name: 'the backfill machine’s StartExecution of the per-ticket machine (StartTicketRuns)',
      expected: /BackfillStateMachine\w+ \(role BackfillStateMachineRole\w+\) is not allowed states:StartExecution on arn:aws:states:[^ ]+:stateMachine:\S+-ticket: no Allow statement/,
      mutate: (t) => withoutStatement(statementsOfRole(t, 'BackfillStateMachineRole'), (s) => s.Sid === 'StartTicketRuns'),
    },
    {
      name: 'an unconditioned s3:ListBucket for SelectTickets (limited to s3:prefix backfill/*, as it was)',
      expected: /BackfillSelectTicketsFunction\w+ \(role BackfillSelectTicketsRole\w+\) is not allowed s3:ListBucket on arn:aws:s3:::\S+: no Allow statement .*\[call: s3 GetObject \S+\/selection\.json; S3 answers a missing key with 404/,
      mutate: (t) => {
        for (const s of statementsOfRole(t, 'BackfillSelectTicketsRole')) if (s.Sid === 'ListBackfillFiles') s.Condition = { StringLike: { 's3:prefix': ['backfill/*'] } };
      },
    },
    { name: 'dynamodb:PutItem from the MarkTicket role', expected: /is not allowed dynamodb:PutItem on arn:aws:dynamodb:[^ ]+:table\/\S+/, mutate: (t) => withoutAction(t, 'WorkflowMarkTicketRole', 'dynamodb:PutItem') },
    {
      name: 'the redact role from the bucket policy’s readers',
      expected: /WorkflowRedactVerifiedFunction\w+ \(role WorkflowRedactVerifiedRole\w+\) is not allowed s3:GetObject on arn:aws:s3:::[^ ]+: explicitly denied by bucket policy/,
      mutate: (t) => {
        const policy = Object.values(t.Resources).find((r) => r.Type === 'AWS::S3::BucketPolicy' && JSON.stringify(r.Properties).includes('DenyObjectReadsExceptVaultReaders'))!;
        const deny = (policy.Properties!.PolicyDocument as { Statement: Array<{ Sid?: string; Condition: { ArnNotEquals: { 'aws:PrincipalArn': unknown[] } } }> }).Statement.find((s) => s.Sid === 'DenyObjectReadsExceptVaultReaders')!;
        deny.Condition.ArnNotEquals['aws:PrincipalArn'] = deny.Condition.ArnNotEquals['aws:PrincipalArn'].filter((r) => !JSON.stringify(r).includes('RedactVerifiedRole'));
      },
    },
    {
      name: 'the index writes of the redact role (RecordInArchiveIndex)',
      expected: /WorkflowRedactVerifiedFunction\w+ \(role WorkflowRedactVerifiedRole\w+\) is not allowed dynamodb:UpdateItem on arn:aws:dynamodb:[^ ]+:table\/\S+ArchiveIndex4\w+: no Allow statement/,
      mutate: (t) => withoutStatement(statementsOfRole(t, 'WorkflowRedactVerifiedRole'), (s) => s.Sid === 'RecordInArchiveIndex'),
    },
    {
      name: 'the archive key through DynamoDB from the copy role (ArchiveIndexKey)',
      expected: /WorkflowCopyAttachmentFunction\w+ \(role WorkflowCopyAttachmentRole\w+\) is not allowed kms:Decrypt on arn:aws:kms:[^ ]+: no Allow statement in its identity policies matches \[call: dynamodb UpdateItem \S+ArchiveIndex/,
      mutate: (t) => withoutStatement(statementsOfRole(t, 'WorkflowCopyAttachmentRole'), (s) => s.Sid === 'ArchiveIndexKey'),
    },
    {
      name: 'the key policy’s exemption of DynamoDB from its Decrypt deny',
      expected: /ViewerFunction\w+ \(role ViewerFunctionRole\w+\) is not allowed kms:Decrypt on arn:aws:kms:[^ ]+: explicitly denied by key policy of ArchiveKey\w+ statement DenyDecryptExceptVaultReaders \[call: dynamodb/,
      mutate: (t) => void delete keyPolicyDeny(t).Condition!.StringNotEquals,
    },
    {
      name: 'the viewer role from the index table policy’s readers',
      expected: /ViewerFunction\w+ \(role ViewerFunctionRole\w+\) is not allowed dynamodb:(GetItem|Query) on arn:aws:dynamodb:[^ ]+ArchiveIndex4\w+\S*: explicitly denied by table policy of ArchiveIndex4\w+ statement DenyIndexReadsExceptArchiveReaders/,
      mutate: (t) => {
        const readers = indexReadDeny(t);
        readers['aws:PrincipalArn'] = readers['aws:PrincipalArn']!.filter((r) => !JSON.stringify(r).includes('ViewerFunctionRole'));
      },
    },
    {
      name: 'the viewer in the signer role’s trust policy and its own sts:AssumeRole',
      expected: /ViewerFunction\w+ \(role ViewerFunctionRole\w+\) is not allowed sts:AssumeRole on arn:aws:iam::\d+:role\/\S+Signer\w+: no Allow statement/,
      mutate: (t) => {
        withoutStatement(statementsOfRole(t, 'ViewerFunctionRole'), (s) => s.Sid === 'SignAsThePerson');
        const trust = (resourceOf(t, 'ArchiveRolesSigner').Properties!.AssumeRolePolicyDocument as { Statement: Statement[] }).Statement;
        withoutStatement(trust, (s) => JSON.stringify(s.Principal).includes('ViewerFunctionRole'));
      },
    },
    {
      name: 'the signer role’s reads of archived objects (its links)',
      expected: /ArchiveRolesSigner\w+ session reader@acme\.example \(role ArchiveRolesSigner\w+\) is not allowed s3:GetObject on arn:aws:s3:::[^ ]+\/tickets\/5001\/\d+\.pdf: no Allow statement .*\(presigned\)/,
      mutate: (t) => withoutStatement(statementsOfRole(t, 'ArchiveRolesSigner'), (s) => s.Sid === 'SignArchivedObjectLinks'),
    },
    {
      name: 'kms:Decrypt in a link’s session policy (as the viewer signed links before this check)',
      expected: /ArchiveRolesSigner\w+ session reader@acme\.example \(role ArchiveRolesSigner\w+\) is not allowed kms:Decrypt on arn:aws:kms:[^ ]+: not allowed by the session policy/,
      callers: (callers) =>
        callers.map((c) => {
          if (!c.session?.policy) return c;
          const Statement = statementsOf(c.session.policy).filter((st) => !JSON.stringify(st.Action).includes('kms:'));
          return { ...c, session: { ...c.session, policy: { ...c.session.policy, Statement } } };
        }),
    },
    {
      name: 'a fresh signature: the same link followed after 301 s',
      expected: /is not allowed s3:GetObject on arn:aws:s3:::[^ ]+\/tickets\/5001\/\d+\.pdf: explicitly denied by bucket policy \w+ statement DenySignaturesOlderThan300Seconds \[call: s3 GetObject \S+ \(presigned\)/,
      calls: (calls) => calls.map((c) => (presigned(c) ? { ...c, receivedAt: c.s3!.signature!.signedAt + 301_000 } : c)),
    },
  ];

  it('recorded the viewer’s links as its person’s signer session and checked them (presigned GetObject)', () => {
    expect(rig.harness.calls.calls.filter(presigned).map((c) => [c.operation, c.status, rig.harness.callers.find((x) => x.accessKeyId === c.accessKeyId)?.logicalId.replace(/[0-9A-F]{8} /, ' ')])).toEqual([
      ['GetObject', 200, 'ArchiveRolesSigner session reader@acme.example'],
      ['GetObject', 200, 'ArchiveRolesSigner session reader@acme.example'],
    ]);
  });

  it.each(mutations.map((m) => [m.name, m] as const))('fails, naming the action and resource, without %s', (_name, mutation) => {
    const template = structuredClone(rig.harness.stack.template);
    mutation.mutate?.(template);
    const calls = mutation.calls?.(rig.harness.calls.calls) ?? rig.harness.calls.calls;
    const callers = mutation.callers?.(rig.harness.callers) ?? rig.harness.callers;
    expect(formatDenials(check(template, calls, callers).denials)).toMatch(mutation.expected);
  });
});
