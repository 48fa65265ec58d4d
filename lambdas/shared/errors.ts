/**
 * The one vocabulary of failures. Every class sets an explicit `name`: Step Functions reads it as the
 * error name, so the ASL retries and catches by these exact strings (see statemachine/attachment-vault.asl.json,
 * and docs/design.md#errors-retry-and-catch). Each step lists what it can raise in lambdas/<step>/errors.ts, and
 * test/unit/statemachine/vocabulary.test.ts proves that the ASL retries exactly those that are retryable.
 * Messages never contain file names, content URLs, tokens or secrets: they reach the execution history.
 */

export abstract class VaultError extends Error {
  abstract override readonly name: string;
  /** True when a later attempt may succeed (the ASL retries it). */
  abstract readonly retryable: boolean;
}

/** Configuration is missing or invalid. Never retried. */
export class ConfigurationError extends VaultError {
  override readonly name = 'ConfigurationError';
  readonly retryable = false;
}

/** A state received an event that does not match its contract. Never retried. */
export class InvalidInput extends VaultError {
  override readonly name = 'InvalidInput';
  readonly retryable = false;
}

/** Secrets Manager (or the network to it) failed: a later attempt may succeed. */
export class SecretUnavailable extends VaultError {
  override readonly name = 'SecretUnavailable';
  readonly retryable = true;
}

/** DynamoDB or Step Functions (the ticket lock's store and its running check) failed after the SDK's retries. */
export class StateStoreUnavailable extends VaultError {
  override readonly name = 'StateStoreUnavailable';
  readonly retryable = true;
}

/** Zendesk answered 404 for the ticket: unknown or deleted. The run ends FAILED and writes nothing. */
export class TicketNotFound extends VaultError {
  override readonly name = 'TicketNotFound';
  readonly retryable = false;
}

/** The backfill's execution of a ticket still runs (a redrive found its name taken): look again later. */
export class TicketRunStillRunning extends VaultError {
  override readonly name = 'TicketRunStillRunning';
  readonly retryable = true;
}

/** The backfill's execution of a ticket ended without archiving it: the item fails, and the report names the ticket. */
export class TicketRunFailed extends VaultError {
  override readonly name = 'TicketRunFailed';
  readonly retryable = false;
}

/** Zendesk refused the credentials (401/403). Never retried: an operator must fix the secret or scopes. */
export class ZendeskAuthFailed extends VaultError {
  override readonly name = 'ZendeskAuthFailed';
  readonly retryable = false;
}

/** Zendesk answered 429 (or 503 with Retry-After) longer than the client waits in-process. */
export class ZendeskRateLimited extends VaultError {
  override readonly name = 'ZendeskRateLimited';
  readonly retryable = true;
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** 5xx or network failures that outlasted the client's own retries. */
export class ZendeskUnavailable extends VaultError {
  override readonly name = 'ZendeskUnavailable';
  readonly retryable = true;
}

/** A 4xx that the design does not expect (a bug or an API change). Never retried. */
export class ZendeskRequestFailed extends VaultError {
  override readonly name = 'ZendeskRequestFailed';
  readonly retryable = false;
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** Safe-update tag writes kept conflicting (409) after re-reading the ticket. */
export class UpdateConflict extends VaultError {
  override readonly name = 'UpdateConflict';
  readonly retryable = true;
}

/** The ticket is closed: tag endpoints answer 422. Handled in code (the run records it), never thrown to the ASL. */
export class TicketClosed extends VaultError {
  override readonly name = 'TicketClosed';
  readonly retryable = false;
}

/**
 * Export Search refused the cursor of a request (`page[after]`): it expired (a cursor lives an hour) or is no longer
 * valid. A new export of the same window starts without one. Handled in code by SelectTickets, never thrown to the ASL.
 */
export class SearchCursorExpired extends VaultError {
  override readonly name = 'SearchCursorExpired';
  readonly retryable = true;
}

// ---- Per-file, permanent and known: the copy step turns these into outcome `skipped` with a reason. ----

/** The attachment no longer exists (404) or is marked deleted. */
export class AttachmentGone extends VaultError {
  override readonly name = 'AttachmentGone';
  readonly retryable = false;
}

/** Zendesk flagged the file as malware and refuses to serve it. */
export class MalwareBlocked extends VaultError {
  override readonly name = 'MalwareBlocked';
  readonly retryable = false;
}

/** The content URL or its redirect leaves the allowed hosts: nothing is fetched with credentials. */
export class HostNotAllowed extends VaultError {
  override readonly name = 'HostNotAllowed';
  readonly retryable = false;
}

/** The file is larger than MAX_ATTACHMENT_BYTES. */
export class AttachmentTooLarge extends VaultError {
  override readonly name = 'AttachmentTooLarge';
  readonly retryable = false;
}

/**
 * Zendesk served a complete body (the transfer ended cleanly) whose length is not the attachment's `size`, twice in a
 * row with the same length: Zendesk's metadata and its bytes disagree, and no retry will change that. The file stays
 * in Zendesk, is never redacted, and is reported skipped (docs/faults.md#zendesk).
 */
export class SizeMismatch extends VaultError {
  override readonly name = 'SizeMismatch';
  readonly retryable = false;
}

// ---- Per-file, possibly transient: retried by the ASL, then recorded as outcome `failed`. ----

/** The download ended early, ran long, or its length differs from the attachment's size. */
export class DownloadIncomplete extends VaultError {
  override readonly name = 'DownloadIncomplete';
  readonly retryable = true;
  /**
   * Set when the transfer itself ended cleanly but its length is not the attachment's size: the bytes received, or
   * 'longer' when the body ran past the size (reading stops there). Unset for a broken or stalled transfer.
   */
  readonly completeLength?: number | 'longer';
  constructor(message: string, completeLength?: number | 'longer') {
    super(message);
    if (completeLength !== undefined) this.completeLength = completeLength;
  }
}

/** S3, or the archive index or audit trail (DynamoDB), failed after the SDK's own retries (throttling, 5xx, network). */
export class ArchiveUnavailable extends VaultError {
  override readonly name = 'ArchiveUnavailable';
  readonly retryable = true;
}

/** The stored object does not prove the copy: wrong length, checksum or metadata. Never redacted. */
export class CopyNotVerified extends VaultError {
  override readonly name = 'CopyNotVerified';
  readonly retryable = true;
}

// ---- The archive's reading side (archive commands, the viewer): never raised inside the workflow. ----

/** The attachment is not in the archive index, or it was erased: nothing to open. */
export class FileNotArchived extends VaultError {
  override readonly name = 'FileNotArchived';
  readonly retryable = false;
}

/** The signed-in person is not in the group that may read the archive (or is not signed in). */
export class ViewerAccessDenied extends VaultError {
  override readonly name = 'ViewerAccessDenied';
  readonly retryable = false;
}

export const SKIP_REASONS = {
  AttachmentGone: 'attachment_gone',
  MalwareBlocked: 'malware_flagged',
  HostNotAllowed: 'host_not_allowed',
  AttachmentTooLarge: 'too_large',
  SizeMismatch: 'size_mismatch',
} as const;

export type SkipReason = (typeof SKIP_REASONS)[keyof typeof SKIP_REASONS];

/** Maps a permanent per-file error to its `skipped` reason, or undefined when the error is not a skip. */
export function skipReasonOf(error: unknown): SkipReason | undefined {
  if (error instanceof VaultError && error.name in SKIP_REASONS) {
    return SKIP_REASONS[error.name as keyof typeof SKIP_REASONS];
  }
  return undefined;
}

/**
 * The message of a Step Functions error Cause, for people. In AWS a Lambda error's Cause is JSON
 * `{errorType, errorMessage, trace}`; the local engine and Fail states give the bare message. Never parse a Cause to
 * decide anything: this is for display only.
 */
export function causeMessage(cause: string | null | undefined): string {
  if (!cause) return '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed?.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // a bare message
  }
  return cause;
}

// ---- Names defined by AWS and Powertools, which the ASL matches too. ----

/**
 * Lambda service errors: the invoke itself failed or was throttled. Plain-ARN Tasks get no default retrier, so the
 * ASL retries these on every Task (docs/design.md#errors-retry-and-catch).
 */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.TooManyRequestsException',
] as const;

/**
 * A function that crashed, ran out of memory or timed out (`Lambda.Unknown`, `Sandbox.Timedout` on newer runtimes) or
 * a Task that outlasted its TimeoutSeconds (`States.Timeout`). Retried only on steps whose work is idempotent.
 */
export const INTERRUPTION_ERRORS = ['Lambda.Unknown', 'Sandbox.Timedout', 'States.Timeout'] as const;

/** Powertools idempotency errors a step wrapped in makeIdempotent can raise, with whether a retry may help. */
export const IDEMPOTENCY_ERRORS = {
  /** Another invocation holds the record (a concurrent duplicate): retried with its own, gentler retrier. */
  IdempotencyAlreadyInProgressError: true,
  /** DynamoDB failed. */
  IdempotencyPersistenceLayerError: true,
  /** The record changed between read and write. */
  IdempotencyInconsistentStateError: true,
  /** The same key came with a different payload: a bug, never retried. */
  IdempotencyValidationError: false,
  /** The event has no key: a bug, never retried. */
  IdempotencyKeyError: false,
} as const;

/**
 * What the `arn:aws:states:::states:startExecution.sync:2` integration (the backfill's RunTicket) fails with, besides
 * the child's own end (`States.TaskFailed`): StartExecution's failures as Step Functions names them for its service
 * integrations (`StepFunctions.<Exception>`), with whether a retry may help. A name already taken
 * (`ExecutionAlreadyExistsException`) is permanent for that name: the backfill catches it and looks the execution up.
 */
export const START_EXECUTION_ERRORS = {
  'StepFunctions.ExecutionAlreadyExistsException': false,
  'StepFunctions.ExecutionLimitExceededException': true,
  'StepFunctions.ThrottlingException': true,
  'StepFunctions.ServiceException': true,
  'StepFunctions.SdkClientException': true,
  'StepFunctions.InvalidNameException': false,
  'StepFunctions.InvalidExecutionInputException': false,
  'StepFunctions.StateMachineDoesNotExistException': false,
  'States.TaskFailed': false,
} as const;

/** The errors of each Step Functions service integration a Task may use (every other Task is a Lambda function). */
export const INTEGRATION_ERRORS: Record<string, Readonly<Record<string, boolean>>> = {
  'arn:aws:states:::states:startExecution.sync:2': START_EXECUTION_ERRORS,
};

/** Names AWS defines (the ASL may match these besides the vocabulary). */
export function isAwsDefinedError(name: string): boolean {
  return name.startsWith('States.') || name.startsWith('Lambda.') || name === 'Sandbox.Timedout' || name in IDEMPOTENCY_ERRORS || name in START_EXECUTION_ERRORS;
}

/** Every VaultError class, by name: the vocabulary as data (for tests and tools). */
export const VAULT_ERRORS = {
  ConfigurationError,
  InvalidInput,
  SecretUnavailable,
  StateStoreUnavailable,
  TicketNotFound,
  TicketRunStillRunning,
  TicketRunFailed,
  ZendeskAuthFailed,
  ZendeskRateLimited,
  ZendeskUnavailable,
  ZendeskRequestFailed,
  UpdateConflict,
  TicketClosed,
  SearchCursorExpired,
  AttachmentGone,
  MalwareBlocked,
  HostNotAllowed,
  AttachmentTooLarge,
  SizeMismatch,
  DownloadIncomplete,
  ArchiveUnavailable,
  CopyNotVerified,
  FileNotArchived,
  ViewerAccessDenied,
} as const;

export type VaultErrorName = keyof typeof VAULT_ERRORS;

/** What a step can raise, as its lambdas/<step>/errors.ts declares it. */
export interface StepErrors {
  /** Vocabulary errors that escape the step's handler. */
  vault: readonly VaultErrorName[];
  /** Powertools idempotency errors, when the step is wrapped in makeIdempotent. */
  idempotency?: readonly (keyof typeof IDEMPOTENCY_ERRORS)[];
  /** True when a repeat of the whole step is harmless (Lambda.Unknown, timeouts may be retried). */
  idempotent: boolean;
}

/** Errors every Zendesk call can raise (credentials come from Secrets Manager in AWS). */
export const ZENDESK_CALL_ERRORS = [
  'ConfigurationError',
  'SecretUnavailable',
  'InvalidInput',
  'ZendeskAuthFailed',
  'ZendeskRateLimited',
  'ZendeskUnavailable',
  'ZendeskRequestFailed',
  // The shared request budget's table (request-budget.ts), taken from before every Zendesk request.
  'StateStoreUnavailable',
] as const satisfies readonly VaultErrorName[];

/** The names a step's retriers must cover: its retryable errors, and interruptions when it is idempotent. */
export function retryableNamesOf(errors: StepErrors): string[] {
  const vault = errors.vault.filter((name) => {
    const ErrorClass = VAULT_ERRORS[name] as unknown as new (message: string, extra?: number) => VaultError;
    return new ErrorClass('probe', 0).retryable;
  });
  const idempotency = (errors.idempotency ?? []).filter((name) => IDEMPOTENCY_ERRORS[name]);
  return [...vault, ...idempotency, ...(errors.idempotent ? INTERRUPTION_ERRORS : [])];
}
