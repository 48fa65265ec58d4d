import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the infrastructure finds the rest of the repository: the workflow file and the Lambda entries. */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const ASL_FILE = path.join(PROJECT_ROOT, 'statemachine', 'attachment-vault.asl.json');
export const BACKFILL_ASL_FILE = path.join(PROJECT_ROOT, 'statemachine', 'backfill.asl.json');

/** One entry per Lambda; each file exports `handler`. */
export const LAMBDA_ENTRIES = {
  webhook: 'lambdas/webhook/handler.ts',
  markTicket: 'lambdas/mark-ticket/handler.ts',
  listAttachments: 'lambdas/list-attachments/handler.ts',
  copyAttachment: 'lambdas/copy-attachment/handler.ts',
  collectCopies: 'lambdas/collect-copies/handler.ts',
  selectTickets: 'lambdas/select-tickets/handler.ts',
  lookUpTicketRun: 'lambdas/look-up-ticket-run/handler.ts',
  summarizeBackfill: 'lambdas/summarize-backfill/handler.ts',
  redactVerified: 'lambdas/redact-verified/handler.ts',
  finishTicket: 'lambdas/finish-ticket/handler.ts',
  notify: 'lambdas/notify/handler.ts',
  releaseTicket: 'lambdas/release-ticket/handler.ts',
  viewer: 'lambdas/viewer/handler.ts',
} as const;

export type LambdaName = keyof typeof LAMBDA_ENTRIES;

/** Fails synth early, naming every missing handler, instead of NodejsFunction's one-at-a-time error. */
export function assertLambdaEntriesExist(root: string = PROJECT_ROOT): void {
  const missing = Object.values(LAMBDA_ENTRIES).filter((entry) => !existsSync(path.join(root, entry)));
  if (missing.length > 0) {
    throw new Error(
      `Cannot synthesize attachment-vault: missing Lambda handler file(s) ${missing.join(', ')} ` +
        `(relative to ${root}). Each must exist and export "handler".`,
    );
  }
}

/**
 * The `${Name}` placeholders of an ASL document, sorted and without duplicates. Step Functions substitutes
 * them from `DefinitionSubstitutions`; a placeholder without a substitution would reach AWS verbatim.
 */
export function aslPlaceholders(definition: string): string[] {
  const names = new Set<string>();
  for (const match of definition.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)) names.add(match[1] as string);
  return [...names].sort();
}

/** Reads the workflow file and returns its placeholders. */
export function readAslPlaceholders(file: string = ASL_FILE): string[] {
  if (!existsSync(file)) throw new Error(`Cannot synthesize attachment-vault: the workflow file ${file} does not exist`);
  return aslPlaceholders(readFileSync(file, 'utf8'));
}
