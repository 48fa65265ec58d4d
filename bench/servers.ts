/**
 * The bench's servers, each in a process of its own (BENCH_SERVER=zendesk|s3), so that their memory is never
 * counted as the copy's and neither waits for the other's CPU: the sandbox Zendesk (API + content host, bytes
 * generated on the fly, never held) and fauxqs S3 in memory.
 *
 * fauxqs refuses request bodies over 11 MiB (its Fastify bodyLimit), which would cap multipart parts at ~10 MiB;
 * the bench swaps in the same raw-buffer body parser with a 72 MiB limit, so parts up to 64 MiB fit.
 * Nothing else about fauxqs changes.
 */
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { buildApp } from 'fauxqs';
import { startSandboxZendesk } from '../local/sandbox/zendesk.js';
import { highWaterMark, serve } from './ipc.js';
import { BENCH_BUCKET, BENCH_CREDENTIALS, type SeededAttachment } from './protocol.js';

const BODY_LIMIT = 72 * 1024 * 1024;

type Role = 'zendesk' | 's3';

/** The sandbox Zendesk: one ticket per seeded attachment, bytes generated per request (never held in memory). */
async function startZendesk(): Promise<void> {
  const sandbox = await startSandboxZendesk({ auth: { ...BENCH_CREDENTIALS } });
  let nextTicket = 1;
  serve(
    {
      /** One ticket, one comment, one generated attachment of `size` bytes (a PDF by its first bytes). */
      seed: (message) => {
        const size = Number(message.size);
        const ticketId = nextTicket++;
        sandbox.createTicket({ id: ticketId, status: 'open' });
        const fileName = `bench-${size}.pdf`;
        const comment = sandbox.addComment(ticketId, {
          attachments: [{ fileName, contentType: 'application/pdf', data: { size, seed: ticketId, head: '%PDF-1.7\n' } }],
        });
        const attachment = comment.attachments[0]!;
        return {
          ticketId: String(ticketId),
          commentId: comment.id,
          attachmentId: attachment.id,
          contentUrl: attachment.contentUrl,
          size,
          fileName,
        } satisfies SeededAttachment;
      },
      memory: () => ({ rss: process.memoryUsage.rss(), hwm: highWaterMark() }),
    },
    () => sandbox.close(),
  );
  process.send?.({ type: 'ready', zendeskUrl: sandbox.url, contentOrigin: sandbox.contentOrigin });
}

/** fauxqs S3 in memory, with the bench bucket. */
async function startS3(): Promise<void> {
  const app = buildApp({ logger: false });
  app.removeContentTypeParser('*');
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_request, body, done) => done(null, body));
  const endpoint = await app.listen({ port: 0, host: '127.0.0.1' });
  const s3 = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  await s3.send(new CreateBucketCommand({ Bucket: BENCH_BUCKET }));
  s3.destroy();
  serve({ memory: () => ({ rss: process.memoryUsage.rss(), hwm: highWaterMark() }) }, () => app.close());
  process.send?.({ type: 'ready', s3Endpoint: endpoint, bucket: BENCH_BUCKET });
}

const role = (process.env.BENCH_SERVER ?? '') as Role;
if (role === 'zendesk') await startZendesk();
else if (role === 's3') await startS3();
else throw new Error('BENCH_SERVER must be zendesk or s3');
