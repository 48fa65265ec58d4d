import { SFNClient } from '@aws-sdk/client-sfn';
import { ConfigurationError, InvalidInput } from '../shared/errors.js';
import { parseTicketId } from '../shared/ids.js';
import { isRecord, step } from '../shared/step.js';
import { lookUpTicketRun } from './look-up.js';

const RUN_ID = /^[0-9A-Za-z_-]{1,40}$/;
let sfn: SFNClient | undefined;

/** The thin door of LookUpTicketRun: `{runId, ticketId}`; TICKET_STATE_MACHINE_ARN names the per-ticket machine. */
export const handler = step('LookUpTicketRun', async (event: unknown) => {
  if (!isRecord(event) || typeof event.runId !== 'string' || !RUN_ID.test(event.runId)) throw new InvalidInput('LookUpTicketRun expects {runId, ticketId}');
  const ticketId = parseTicketId(event.ticketId);
  const ticketStateMachineArn = process.env.TICKET_STATE_MACHINE_ARN?.trim();
  if (!ticketStateMachineArn) throw new ConfigurationError('TICKET_STATE_MACHINE_ARN is not set');
  sfn ??= new SFNClient({});
  return lookUpTicketRun({ runId: event.runId, ticketId }, { sfn, ticketStateMachineArn });
});
