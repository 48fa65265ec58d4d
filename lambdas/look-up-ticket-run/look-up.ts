import { DescribeExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { StateStoreUnavailable, TicketRunFailed, TicketRunStillRunning } from '../shared/errors.js';
import { BACKFILL_EXECUTION_PREFIX } from '../shared/traffic.js';

/**
 * The backfill's execution of one ticket, when its name was already taken (a redriven Map Run starts every item that
 * did not succeed, and the ticket's execution may have run to its end meanwhile): its end is the item's result.
 */

export interface TicketRun {
  ticketId: string;
  executionArn: string;
  status: 'SUCCEEDED';
}

/** `bf-<runId>-<ticketId>`: the name the backfill gives a ticket's execution (backfill.asl.json). */
export function backfillExecutionName(runId: string, ticketId: string): string {
  return `${BACKFILL_EXECUTION_PREFIX}${runId}-${ticketId}`;
}

export function executionArnOf(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

export async function lookUpTicketRun(request: { runId: string; ticketId: string }, deps: { sfn: SFNClient; ticketStateMachineArn: string }): Promise<TicketRun> {
  const executionArn = executionArnOf(deps.ticketStateMachineArn, backfillExecutionName(request.runId, request.ticketId));
  let status: string | undefined;
  let error: string | undefined;
  try {
    ({ status, error } = await deps.sfn.send(new DescribeExecutionCommand({ executionArn })));
  } catch (failure) {
    throw new StateStoreUnavailable(`DescribeExecution of ticket ${request.ticketId}'s backfill run failed (${failure instanceof Error ? failure.name : 'Error'})`);
  }
  if (status === 'SUCCEEDED') return { ticketId: request.ticketId, executionArn, status };
  if (status === 'RUNNING' || status === 'PENDING_REDRIVE') throw new TicketRunStillRunning(`ticket ${request.ticketId}'s backfill run is still ${status}`);
  throw new TicketRunFailed(`ticket ${request.ticketId}'s backfill run ended ${status ?? 'UNKNOWN'}${error ? ` (${error})` : ''}`);
}
