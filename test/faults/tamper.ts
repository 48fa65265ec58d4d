/**
 * Someone (or something) changes the archived object between CopyAttachments and RedactVerified, or hands the
 * redaction step a key that is not the file's. Shared by tamper.test.ts (the real check refuses every one) and
 * tamper-mutation.test.ts (with the check replaced by an always-true one, every one is redacted: the tamper tests
 * would fail, so the check cannot be weakened while the suite stays green).
 */
import { CopyObjectCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
import type { CopyResult } from '../../lambdas/shared/types.js';
import { BUCKET, objectBytes, objectMetadata, putObject, runTicket, seedTicket, textFile, type FaultRig, type RunResult, type SeededTicket } from './harness.js';

export type Tamper = 'deleted' | 'overwritten with other bytes' | 'metadata of another attachment' | 'a different key handed in';
export const TAMPERS: Tamper[] = ['deleted', 'overwritten with other bytes', 'metadata of another attachment', 'a different key handed in'];

export interface TamperRun extends RunResult {
  ticket: SeededTicket;
  /** The file whose copy was tampered with (alone in its comment); the other one is left alone. */
  target: SeededTicket['files'][number];
  /** Redaction requests that named the target. */
  targetRedactions: number;
}

const keyOf = (ticketId: string, attachmentId: number) => `tickets/${ticketId}/${attachmentId}.txt`;

/** Two files of the same length in two comments; the first one's copy is tampered with right before RedactVerified. */
export async function runTampered(rig: FaultRig, ticketId: number, tamper: Tamper): Promise<TamperRun> {
  // Same length, so that only the check this tamper is about can tell the two apart.
  const ticket = await seedTicket(rig.sandbox, ticketId, [[textFile('id-card.txt', 'the ID card scan\n')], [textFile('bank-slip.txt', 'the bank slip 22\n')]]);
  const [target, other] = ticket.files as [SeededTicket['files'][number], SeededTicket['files'][number]];
  const targetKey = keyOf(ticket.ticketId, target.attachmentId);
  const otherKey = keyOf(ticket.ticketId, other.attachmentId);
  rig.beforeTask = async (state, input) => {
    if (state !== 'RedactVerified') return;
    rig.beforeTask = undefined;
    if (tamper === 'deleted') await rig.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: targetKey }));
    if (tamper === 'overwritten with other bytes') {
      await putObject(rig, targetKey, Buffer.alloc(target.size, 0x58), await objectMetadata(rig, targetKey));
    }
    if (tamper === 'metadata of another attachment') {
      // A correct copy of the other attachment (its bytes and metadata) now sits at the target's key.
      await rig.s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: targetKey, CopySource: `${BUCKET}/${otherKey}`, MetadataDirective: 'COPY' }));
    }
    if (tamper === 'a different key handed in') {
      // The run's copies.json, which the state points at, edited as a forged state would be.
      const { key } = (input as { copies: { file: { key: string } } }).copies.file;
      const copies = JSON.parse((await objectBytes(rig, key)).toString('utf8')) as CopyResult[];
      copies.find((c) => c.attachmentId === target.attachmentId)!.s3Key = otherKey;
      await putObject(rig, key, Buffer.from(JSON.stringify(copies)));
    }
  };
  const run = await runTicket(rig, ticket.ticketId);
  rig.beforeTask = undefined;
  const targetRedactions = rig.sandbox.redactions.filter((r) => r.ticketId === ticketId && r.redacted.some((x) => x.attachmentId === target.attachmentId)).length;
  return { ...run, ticket, target, targetRedactions };
}
