/** LookUpTicketRun: a backfill item whose bf- name was taken reads how that execution ended (aws-sdk-client-mock). */
import { afterEach, describe, expect, test } from '@jest/globals';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { lookUpTicketRun } from '../../../lambdas/look-up-ticket-run/look-up.js';

const sfnMock = mockClient(SFNClient);
afterEach(() => {
  sfnMock.reset();
});
const machine = 'arn:aws:states:eu-west-1:123456789012:stateMachine:AttachmentVault-ticket';
const deps = () => ({ sfn: new SFNClient({ region: 'eu-west-1' }), ticketStateMachineArn: machine });

describe('lookUpTicketRun', () => {
  test("describes exactly the ticket's bf-<runId>-<ticketId> execution; SUCCEEDED is the item's result", async () => {
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED' } as never);
    const run = await lookUpTicketRun({ runId: 'r1', ticketId: '1001' }, deps());
    expect(run).toEqual({ ticketId: '1001', executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:AttachmentVault-ticket:bf-r1-1001', status: 'SUCCEEDED' });
    expect(sfnMock.commandCalls(DescribeExecutionCommand).map((c) => c.args[0].input)).toEqual([{ executionArn: run.executionArn }]);
  });

  test('a run still going is TicketRunStillRunning (retried); one that ended otherwise is TicketRunFailed, naming how', async () => {
    for (const status of ['RUNNING', 'PENDING_REDRIVE']) {
      sfnMock.on(DescribeExecutionCommand).resolves({ status } as never);
      await expect(lookUpTicketRun({ runId: 'r1', ticketId: '7' }, deps())).rejects.toMatchObject({ name: 'TicketRunStillRunning', message: `ticket 7's backfill run is still ${status}` });
    }
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'FAILED', error: 'AttachmentsNotArchived' } as never);
    await expect(lookUpTicketRun({ runId: 'r1', ticketId: '7' }, deps())).rejects.toMatchObject({ name: 'TicketRunFailed', message: "ticket 7's backfill run ended FAILED (AttachmentsNotArchived)" });
  });

  test('Step Functions failing is StateStoreUnavailable (retried), naming the ticket', async () => {
    sfnMock.on(DescribeExecutionCommand).rejects(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }));
    await expect(lookUpTicketRun({ runId: 'r1', ticketId: '7' }, deps())).rejects.toMatchObject({ name: 'StateStoreUnavailable', message: "DescribeExecution of ticket 7's backfill run failed (ThrottlingException)" });
  });
});
