import { describe, expect, test } from '@jest/globals';
import { tagConfig } from '../../../lambdas/shared/config.js';
import { ZendeskUnavailable } from '../../../lambdas/shared/errors.js';
import type { ExecutionStatusEvent } from '../../../lambdas/shared/execution-events.js';
import { releaseTicket } from '../../../lambdas/release-ticket/release.js';
import { FakeZendesk } from '../../support/fake-zendesk.js';
import { execution, MemoryTicketLocks } from '../../support/memory-locks.js';

const tags = tagConfig({});
const ended = (status: string, input: unknown = { ticketId: '7', source: 'webhook' }): ExecutionStatusEvent => ({
  'detail-type': 'Step Functions Execution Status Change',
  detail: { executionArn: 'arn:aws:states:eu-west-1:1:execution:vault:zd-7-1', name: 'zd-7-1', status, input: JSON.stringify(input), error: 'ArchiveUnavailable', cause: 'S3 down' },
});

describe('releaseTicket: after an unsuccessful end the ticket shows vault_failed, never vault_processing', () => {
  test.each(['FAILED', 'TIMED_OUT', 'ABORTED'])('%s: processing (and an earlier archived) removed, failed added, other tags kept', async (status) => {
    const zd = new FakeZendesk();
    zd.addTicket('7', 'open', ['vip', 'vault_processing', 'vault_archived']);
    expect(await releaseTicket(ended(status), { zendesk: zd, tags, locks: new MemoryTicketLocks() })).toEqual({ outcome: 'released', ticketId: '7', executionName: 'zd-7-1' });
    expect(zd.tickets.get('7')!.tags).toEqual(['vip', 'vault_failed']);
  });

  test('a run that tagged itself (FinishTicket wrote vault_failed) needs no write', async () => {
    const zd = new FakeZendesk();
    zd.addTicket('7', 'open', ['vault_failed']);
    expect((await releaseTicket(ended('FAILED'), { zendesk: zd, tags, locks: new MemoryTicketLocks() })).outcome).toBe('unchanged');
    expect(zd.tickets.get('7')!.tags).toEqual(['vault_failed']);
  });

  test('a closed ticket (tag writes refused) and a deleted one are reported, not errors', async () => {
    const zd = new FakeZendesk();
    zd.addTicket('7', 'closed', ['vault_processing']);
    expect((await releaseTicket(ended('FAILED'), { zendesk: zd, tags, locks: new MemoryTicketLocks() })).outcome).toBe('ticket_closed');
    expect((await releaseTicket(ended('FAILED', { ticketId: '8' }), { zendesk: zd, tags, locks: new MemoryTicketLocks() })).outcome).toBe('ticket_not_found');
  });

  test('a success, or an event without a ticket, changes nothing', async () => {
    const zd = new FakeZendesk();
    zd.addTicket('7', 'open', ['vault_processing']);
    expect((await releaseTicket(ended('SUCCEEDED'), { zendesk: zd, tags, locks: new MemoryTicketLocks() })).outcome).toBe('not_unsuccessful');
    expect((await releaseTicket(ended('FAILED', { ticketId: '007' }), { zendesk: zd, tags, locks: new MemoryTicketLocks() })).outcome).toBe('no_ticket');
    expect(zd.calls).toEqual([]);
  });

  test("gives back the ticket lock this execution held (not another execution's)", async () => {
    const zd = new FakeZendesk();
    zd.addTicket('7', 'open', ['vault_processing']);
    const locks = new MemoryTicketLocks();
    await locks.claim('7', execution('zd-7-1'));
    await releaseTicket(ended('FAILED'), { zendesk: zd, tags, locks });
    expect(locks.held.has('7')).toBe(false);
    await locks.claim('7', execution('rerun-7-9'));
    await releaseTicket(ended('FAILED'), { zendesk: zd, tags, locks });
    expect(locks.held.get('7')?.executionName).toBe('rerun-7-9');
  });

  test('a Zendesk outage is thrown, so that the asynchronous invoke retries it', async () => {
    const zd = new FakeZendesk();
    zd.addTicket('7', 'open', ['vault_processing']);
    zd.updateTags = async () => {
      throw new ZendeskUnavailable('down');
    };
    await expect(releaseTicket(ended('FAILED'), { zendesk: zd, tags, locks: new MemoryTicketLocks() })).rejects.toBeInstanceOf(ZendeskUnavailable);
  });
});
