import { SFNClient } from '@aws-sdk/client-sfn';
import { parseRunId } from '../shared/backfill-files.js';
import { ticketStateMachineArn } from '../shared/config.js';
import { InvalidInput } from '../shared/errors.js';
import { parseTicketId } from '../shared/ids.js';
import { isRecord, step } from '../shared/step.js';
import { lookUpTicketRun } from './look-up.js';

let sfn: SFNClient | undefined;

/** The thin door of LookUpTicketRun: `{runId, ticketId}`; TICKET_STATE_MACHINE_ARN names the per-ticket machine. */
export const handler = step('LookUpTicketRun', async (event: unknown) => {
  if (!isRecord(event)) throw new InvalidInput('LookUpTicketRun expects {runId, ticketId}');
  const runId = parseRunId(event.runId);
  const ticketId = parseTicketId(event.ticketId);
  sfn ??= new SFNClient({});
  return lookUpTicketRun({ runId, ticketId }, { sfn, ticketStateMachineArn: ticketStateMachineArn() });
});
