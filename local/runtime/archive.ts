import { resolve } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { dynamoAuditTrail, type AuditTrail } from '../../lambdas/shared/archive-audit.js';
import { createIndexDocumentClient, dynamoArchiveIndex, type ArchiveIndex } from '../../lambdas/shared/archive-index.js';
import { archiveIndexSettings } from '../../lambdas/shared/config.js';
import { clientSigner } from '../../lambdas/viewer/signer.js';
import type { SignLink } from '../../lambdas/viewer/open.js';
import { startArchiveTables } from './archive-tables.js';
import { startLinkGate, type LinkGateOptions } from './link-gate.js';
import { LOCAL_BUCKET, LocalConfigurationError, startEmbeddedS3 } from './services.js';

/**
 * The archive's reading side on this machine, for the `archive` commands and the local viewer: the embedded S3 and the
 * index and audit tables under the data folder (the same ones `run`, `serve` and `demo` write; shared with a process
 * that has them open), and the link gate that serves signed links as S3 would. No Zendesk, no engine.
 */

export interface LocalArchive {
  dataDir: string;
  bucket: string;
  /** The S3 client of the embedded store (reindex reads and erase deletes through it). */
  s3: S3Client;
  index: ArchiveIndex;
  audit: AuditTrail;
  /** Signs links that the gate serves. */
  sign: SignLink;
  /** Origin of the links (the viewer's Content-Security-Policy allows it). */
  linkOrigin: string;
  close(): Promise<void>;
}

const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export async function openLocalArchive(options: { env?: NodeJS.ProcessEnv; now?: LinkGateOptions['now'] } = {}): Promise<LocalArchive> {
  const env = options.env ?? process.env;
  if (env.ARCHIVE_BUCKET || env.AWS_ENDPOINT_URL_S3) {
    throw new LocalConfigurationError('--local uses the embedded archive under ATTACHMENT_VAULT_DATA_DIR: unset ARCHIVE_BUCKET and AWS_ENDPOINT_URL_S3, or drop --local to use the deployed archive');
  }
  const dataDir = resolve(env.ATTACHMENT_VAULT_DATA_DIR ?? '.local');
  const region = env.AWS_REGION ?? 'us-east-1';
  const closers: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  };
  try {
    const store = await startEmbeddedS3(dataDir, { persist: true, region });
    closers.push(() => store.close());
    const tables = await startArchiveTables(dataDir, { persist: true, region });
    closers.push(() => tables.close());
    const gate = await startLinkGate({ s3Endpoint: store.url, region, credentials: CREDENTIALS, ...(options.now ? { now: options.now } : {}) });
    closers.push(() => gate.close());
    const s3 = new S3Client({ endpoint: store.url, region, forcePathStyle: true, credentials: CREDENTIALS });
    closers.push(async () => s3.destroy());
    const settings = archiveIndexSettings({ ...tables.env, AWS_REGION: region });
    const doc = createIndexDocumentClient(settings, CREDENTIALS);
    closers.push(async () => doc.destroy());
    return {
      dataDir,
      bucket: LOCAL_BUCKET,
      s3,
      index: dynamoArchiveIndex(doc, tables.env.ARCHIVE_INDEX_TABLE),
      audit: dynamoAuditTrail(doc, tables.env.ARCHIVE_AUDIT_TABLE),
      sign: clientSigner(gate.signingClient, LOCAL_BUCKET),
      linkOrigin: gate.url,
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
