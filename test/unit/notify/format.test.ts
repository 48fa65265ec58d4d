import { describe, expect, it } from '@jest/globals';
import {
  humanSize,
  notifyStatusOf,
  slackMessage,
  SLACK_MAX_FILE_LINES,
  zapierPayload,
} from '../../../lambdas/notify/format.js';
import { linksFor, messageFor } from '../../../lambdas/notify/notify.js';
import type { Summary } from '../../../lambdas/shared/types.js';
import { ENV, EXECUTION_ARN, EXECUTION_NAME, FAILURE, manyFiles, PARTIAL, SUCCESS } from './fixtures.js';

const CASES: [string, Summary][] = [
  ['success', SUCCESS],
  ['partial failure', PARTIAL],
  ['failure', FAILURE],
];

/** The Notify state's input as the ASL builds it: the summary plus $$.Execution.Name / Id. */
const input = (summary: Summary) => {
  const executionName = EXECUTION_NAME.replace('12345', summary.ticketId);
  return { summary, executionName, executionArn: EXECUTION_ARN.replace(EXECUTION_NAME, executionName) };
};

function allTexts(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(allTexts);
  if (value && typeof value === 'object') return Object.values(value).flatMap(allTexts);
  return [];
}

describe('notification status', () => {
  it.each([
    ['everything archived and redacted', SUCCESS, 'succeeded'],
    ['some failed or skipped', PARTIAL, 'partial'],
    ['an execution that FAILED', FAILURE, 'failed'],
    ['a ticket without attachments', { ...SUCCESS, attachments: [], counts: { archived: 0, already_archived: 0, skipped: 0, failed: 0, redacted: 0 } }, 'succeeded'],
    ['FAILED even with files archived', { ...SUCCESS, status: 'FAILED' }, 'failed'],
    ['nothing archived (all skipped)', { ...PARTIAL, attachments: PARTIAL.attachments.filter((a) => a.outcome === 'skipped') }, 'failed'],
    ['archived but not redacted', { ...SUCCESS, attachments: [{ ...SUCCESS.attachments[0]!, redacted: false }] }, 'partial'],
  ] as [string, Summary, string][])('classifies %s as %s', (_, summary, expected) => {
    expect(notifyStatusOf(summary)).toBe(expected);
  });
});

describe('Slack message', () => {
  it.each(CASES)('matches the snapshot for a %s', (_, summary) => {
    expect(messageFor(input(summary), 'slack', ENV)).toMatchSnapshot();
  });

  it('uses a different header for success, partial failure and failure', () => {
    const headers = CASES.map(([, s]) => JSON.stringify(slackMessage(s, linksFor(input(s), ENV)).blocks[0]));
    expect(new Set(headers).size).toBe(3);
    expect(headers[0]).toContain('✅');
    expect(headers[1]).toContain('⚠️');
    expect(headers[2]).toContain('❌');
  });

  it('names the ticket and the result in the fallback text', () => {
    expect(slackMessage(SUCCESS).text).toMatch(/Ticket 12345: attachments archived/);
    expect(slackMessage(PARTIAL).text).toMatch(/Ticket 12345: attachments partially archived/);
    expect(slackMessage(FAILURE).text).toMatch(/Ticket 67890: attachment archiving failed/);
  });

  it('links the ticket in the agent UI and the execution in the console', () => {
    const message = messageFor(input(SUCCESS), 'slack', ENV);
    const texts = allTexts(message).join('\n');
    expect(texts).toContain('<https://acme.zendesk.com/agent/tickets/12345|#12345>');
    expect(texts).toContain(
      `https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/${EXECUTION_ARN}`,
    );
  });

  it('shows a local execution link (a command) as text, not as a button', () => {
    const env = { ...ENV, EXECUTION_CONSOLE_URL: 'attachment-vault executions show {executionName}' };
    const message = messageFor({ summary: SUCCESS, executionName: EXECUTION_NAME }, 'slack', env) as {
      blocks: { type: string }[];
    };
    expect(message.blocks.some((b) => b.type === 'actions')).toBe(false);
    expect(JSON.stringify(message)).toContain(`attachment-vault executions show ${EXECUTION_NAME}`);
  });

  it('caps the file lines and stays within Slack limits for a ticket with many files', () => {
    const summary = manyFiles(1000);
    const message = slackMessage(summary, { ticketUrl: 'https://acme.zendesk.com/agent/tickets/1', executionLink: 'https://x.example/e' });
    expect(message.blocks.length).toBeLessThanOrEqual(50);
    for (const text of allTexts(message.blocks)) expect(text.length).toBeLessThanOrEqual(3000);
    const fileLines = allTexts(message.blocks).join('\n').split('\n').filter((l) => l.includes('tickets/1234'));
    expect(fileLines).toHaveLength(SLACK_MAX_FILE_LINES);
    expect(JSON.stringify(message)).toContain(`… and ${1000 - SLACK_MAX_FILE_LINES} more`);
  });

  it('escapes Slack control characters in reasons and keys', () => {
    const summary: Summary = {
      ...FAILURE,
      attachments: [{ attachmentId: 1, commentId: 2, outcome: 'failed', redacted: false, reason: '<!channel> & `x`', s3Key: 'a<b>' }],
    };
    const text = JSON.stringify(slackMessage(summary).blocks);
    expect(text).not.toContain('<!channel>');
    expect(text).toContain('&lt;!channel&gt; &amp;');
  });
});

describe('Zapier / generic payload', () => {
  it.each(CASES)('matches the snapshot for a %s', (_, summary) => {
    expect(messageFor(input(summary), 'zapier', ENV)).toMatchSnapshot();
  });

  it('keeps the same keys when values are absent (null, not missing)', () => {
    const payload = zapierPayload(FAILURE);
    expect(payload.ticket_url).toBeNull();
    expect(payload.execution_url).toBeNull();
    expect(Object.keys(payload.files[1]!).sort()).toEqual(
      ['attachment_id', 'comment_id', 'content_type', 'outcome', 'reason', 'redacted', 's3_key', 'size'],
    );
    expect(payload.files[1]).toMatchObject({ size: null, content_type: null, s3_key: null });
  });

  it('lists every file, uncapped', () => {
    expect(zapierPayload(manyFiles(300)).files).toHaveLength(300);
  });
});

describe('human-readable sizes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.5 KiB'],
    [482133, '471 KiB'],
    [5_368_709, '5.1 MiB'],
    [1_073_741_824, '1.0 GiB'],
  ])('%d bytes is %s', (bytes, text) => {
    expect(humanSize(bytes)).toBe(text);
  });
});
