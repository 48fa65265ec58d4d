import { zendeskWaitSettings } from '../shared/config.js';
import { step } from '../shared/step.js';
import { zendeskFromEnv } from '../shared/zendesk/from-env.js';
import { selectionFilesFromEnv, type SelectionFiles } from './files.js';
import { parseSelectInput } from './input.js';
import { selectTickets } from './select.js';

let files: SelectionFiles | undefined;

/**
 * The thin door of SelectTickets: `{runId, since, until, query, progress, traffic: 'backfill'}` (input.ts) →
 * `{done: true, manifest, tickets, windows}`, or `{done: false, progress}` / `{done: false, waitSeconds, progress}` to be
 * called again with (select.ts). The Lambda's remaining time decides when it hands back its progress; step() runs it
 * as backfill traffic (the event's `traffic`).
 */
export const handler = step('SelectTickets', async (event: unknown, context) => {
  const input = parseSelectInput(event);
  files ??= selectionFilesFromEnv();
  return selectTickets(input, {
    zendesk: await zendeskFromEnv(),
    files,
    waits: zendeskWaitSettings(),
    remainingMs: () => context?.getRemainingTimeInMillis?.() ?? Number.POSITIVE_INFINITY,
  });
});
