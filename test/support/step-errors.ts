/** Each Task of the ASL with what its step declares it can raise (lambdas/<step>/errors.ts). */
import { readFileSync } from 'node:fs';
import { INTERRUPTION_ERRORS, LAMBDA_SERVICE_ERRORS, type StepErrors } from '../../lambdas/shared/errors.js';
import { COLLECT_COPIES_ERRORS } from '../../lambdas/collect-copies/errors.js';
import { COPY_ATTACHMENT_ERRORS } from '../../lambdas/copy-attachment/errors.js';
import { FINISH_TICKET_ERRORS } from '../../lambdas/finish-ticket/errors.js';
import { LIST_ATTACHMENTS_ERRORS } from '../../lambdas/list-attachments/errors.js';
import { LOOK_UP_TICKET_RUN_ERRORS } from '../../lambdas/look-up-ticket-run/errors.js';
import { MARK_TICKET_ERRORS } from '../../lambdas/mark-ticket/errors.js';
import { NOTIFY_ERRORS } from '../../lambdas/notify/errors.js';
import { REDACT_VERIFIED_ERRORS } from '../../lambdas/redact-verified/errors.js';
import { SELECT_TICKETS_ERRORS } from '../../lambdas/select-tickets/errors.js';
import { SUMMARIZE_BACKFILL_ERRORS } from '../../lambdas/summarize-backfill/errors.js';
import { ASL_PATH, handlerFolderOf } from '../../local/runtime/definition.js';
import { tasksOf, type AslState } from './vocabulary.js';

export const STEP_ERRORS_BY_FOLDER: Record<string, StepErrors> = {
  'mark-ticket': MARK_TICKET_ERRORS,
  'list-attachments': LIST_ATTACHMENTS_ERRORS,
  'copy-attachment': COPY_ATTACHMENT_ERRORS,
  'collect-copies': COLLECT_COPIES_ERRORS,
  'redact-verified': REDACT_VERIFIED_ERRORS,
  'finish-ticket': FINISH_TICKET_ERRORS,
  notify: NOTIFY_ERRORS,
  'select-tickets': SELECT_TICKETS_ERRORS,
  'look-up-ticket-run': LOOK_UP_TICKET_RUN_ERRORS,
  'summarize-backfill': SUMMARIZE_BACKFILL_ERRORS,
};

export function stepErrorsOfState(state: AslState): StepErrors | undefined {
  const placeholder = /^\$\{([A-Za-z0-9]+)\}$/.exec(state.Resource ?? '')?.[1];
  return placeholder ? STEP_ERRORS_BY_FOLDER[handlerFolderOf(placeholder)] : undefined;
}

/** Task state name -> every error name it may fail with (declared, Lambda service, interruptions). */
export function raisableByTask(aslPath: string = ASL_PATH): Map<string, Set<string>> {
  const { States } = JSON.parse(readFileSync(aslPath, 'utf8')) as { States: Record<string, AslState> };
  const out = new Map<string, Set<string>>();
  for (const [task, state] of tasksOf(States)) {
    const declared = stepErrorsOfState(state);
    if (!declared) continue;
    out.set(task, new Set([...declared.vault, ...(declared.idempotency ?? []), ...LAMBDA_SERVICE_ERRORS, ...INTERRUPTION_ERRORS]));
  }
  return out;
}
