import { interruptedRunInput, isExecutionStatusEvent, type ExecutionStatusEvent } from '../../../lambdas/notify/outage.js';
import { slackMessage, zapierPayload } from '../../../lambdas/notify/format.js';

const event = (detail: Partial<ExecutionStatusEvent['detail']>): ExecutionStatusEvent => ({
  'detail-type': 'Step Functions Execution Status Change',
  region: 'eu-west-1',
  detail: {
    executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:vault:zd-77-9',
    name: 'zd-77-9',
    status: 'FAILED',
    input: '{"ticketId":"77","source":"webhook"}',
    error: 'ArchiveUnavailable',
    cause: JSON.stringify({ errorType: 'ArchiveUnavailable', errorMessage: 'attachment 5: S3 PutObject failed: SlowDown (HTTP 503)', trace: ['at x'] }),
    ...detail,
  },
});

describe('notifications for runs interrupted before their Notify state (EventBridge)', () => {
  test('an outage becomes a failed notification naming the error and the Lambda error message, not its trace', () => {
    const input = interruptedRunInput(event({}));
    expect(input).toMatchObject({
      summary: { ticketId: '77', status: 'FAILED', attachments: [] },
      executionName: 'zd-77-9',
      interruption: { error: 'ArchiveUnavailable', cause: 'attachment 5: S3 PutObject failed: SlowDown (HTTP 503)' },
    });
    const slack = slackMessage(input!.summary, { interruption: input!.interruption! });
    expect(slack.text).toBe('❌ Ticket 77: archiving interrupted by ArchiveUnavailable. The execution stopped before it could report each file. Files not yet redacted are still in Zendesk. Fix the cause, then Redrive the execution (or re-run the ticket).');
    expect(JSON.stringify(slack.blocks)).toContain('SlowDown (HTTP 503)');
    expect(JSON.stringify(slack.blocks)).not.toContain('No attachments to archive');
    expect(zapierPayload(input!.summary, { interruption: input!.interruption! })).toMatchObject({ status: 'failed', interruption_error: 'ArchiveUnavailable', files: [] });
  });

  test('runs that reached Notify themselves, successes and events without a ticket are not reported again', () => {
    expect(interruptedRunInput(event({ error: 'AttachmentsNotArchived' }))).toBeUndefined();
    expect(interruptedRunInput(event({ status: 'SUCCEEDED', error: null }))).toBeUndefined();
    expect(interruptedRunInput(event({ input: '{"ticketId":"../x"}' }))).toBeUndefined();
    expect(interruptedRunInput(event({ input: 'not json' }))).toBeUndefined();
  });

  test('a timed-out or aborted run without an error is reported by its status', () => {
    expect(interruptedRunInput(event({ status: 'TIMED_OUT', error: null, cause: null }))?.interruption).toEqual({ error: 'TIMED_OUT', cause: '' });
  });

  test('recognises only Step Functions status-change events', () => {
    expect(isExecutionStatusEvent(event({}))).toBe(true);
    expect(isExecutionStatusEvent({ summary: {} })).toBe(false);
    expect(isExecutionStatusEvent({ 'detail-type': 'Other', detail: {} })).toBe(false);
  });
});
