import { S3Client } from '@aws-sdk/client-s3';
import type { ArchiveSettings } from './config.js';
import { ArchiveUnavailable } from './errors.js';

/**
 * The S3 client of the archive. Default SDK checksums stay on (every request body carries a CRC that S3
 * validates). The endpoint comes from AWS_ENDPOINT_URL_S3 (fauxqs locally); path-style from S3_FORCE_PATH_STYLE,
 * because no SDK variable sets it. No requestStreamBufferSize: lib-storage hands the SDK whole part buffers.
 */
export function createS3Client(settings: Pick<ArchiveSettings, 'region' | 'endpoint' | 'forcePathStyle'>): S3Client {
  return new S3Client({
    region: settings.region,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    forcePathStyle: settings.forcePathStyle,
  });
}

interface SdkErrorShape {
  name?: unknown;
  Code?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

function shape(error: unknown): SdkErrorShape {
  return typeof error === 'object' && error !== null ? (error as SdkErrorShape) : {};
}

/** The HTTP status of an S3 SDK error, when it got that far. */
export function s3Status(error: unknown): number | undefined {
  const status = shape(error).$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

/** The S3 error code (`NoSuchKey`, `SlowDown`, ...) or the JavaScript error name. */
export function s3ErrorName(error: unknown): string {
  const { name, Code } = shape(error);
  if (typeof Code === 'string' && Code) return Code;
  return typeof name === 'string' && name ? name : 'Error';
}

export function isS3NotFound(error: unknown): boolean {
  const name = s3ErrorName(error);
  return name === 'NotFound' || name === 'NoSuchKey' || s3Status(error) === 404;
}

export function isS3PreconditionFailed(error: unknown): boolean {
  return s3ErrorName(error) === 'PreconditionFailed' || s3Status(error) === 412;
}

/**
 * An S3 failure that outlasted the SDK's retries, as the workflow's retryable ArchiveUnavailable. The message keeps
 * the original error name and status; never the SDK message (it may quote request details).
 */
export function archiveUnavailable(action: string, error: unknown): ArchiveUnavailable {
  const status = s3Status(error);
  return new ArchiveUnavailable(`S3 ${action} failed: ${s3ErrorName(error)}${status ? ` (HTTP ${status})` : ''}`);
}
