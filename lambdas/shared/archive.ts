/**
 * The archive: where attachment copies live in S3 and how a copy is proven. One entry point for the steps;
 * the parts live in ./archive/ (keys, metadata, streams, writer, verification).
 */
import { archiveSettings, type ArchiveSettings, type Env } from './config.js';

export { archiveKey, attachmentKeyBase, DEFAULT_KEY_PREFIX, extensionFromName, isAttachmentKey, saneExtension } from './archive/keys.js';
export {
  chooseContentType,
  contentDisposition,
  DEFAULT_CONTENT_TYPE,
  encodeOriginalName,
  MAX_ENCODED_NAME_LENGTH,
  METADATA_KEYS,
  objectMetadata,
  type ObjectIdentity,
} from './archive/metadata.js';
export { measureDownload, sniffFileType, SNIFF_SAMPLE_BYTES, type MeasuredStream, type SniffedStream } from './archive/stream.js';
export {
  base64ToHex,
  hexToBase64,
  verifyArchivedObject,
  type Verification,
  type VerifiedObject,
  type VerifyFailureReason,
  type VerifyRequest,
} from './archive/verify.js';
export { writeArchivedObject, type ArchivedCopy, type ArchiveSource, type ArchiveTarget } from './archive/write.js';
export { findVerifiedCopy, listAttachmentKeys, type ExistingCopy, type ExistingCopyRequest } from './archive/existing.js';

export interface ArchiveWriterSettings extends ArchiveSettings {
  /** SSE_KMS_KEY_ID: the KMS key objects are written with; unset = the bucket's default encryption. */
  sseKmsKeyId?: string;
}

/** archiveSettings() plus the optional SSE_KMS_KEY_ID. */
export function archiveWriterSettings(env: Env = process.env): ArchiveWriterSettings {
  const sseKmsKeyId = env.SSE_KMS_KEY_ID?.trim();
  return { ...archiveSettings(env), ...(sseKmsKeyId ? { sseKmsKeyId } : {}) };
}
