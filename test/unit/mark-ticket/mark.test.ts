import { markTicket } from '../../../lambdas/mark-ticket/mark.js';
import { tagConfig } from '../../../lambdas/shared/config.js';
import { TicketNotFound } from '../../../lambdas/shared/errors.js';
import { FakeZendesk } from '../../support/fake-zendesk.js';
import { execution, MemoryTicketLocks } from '../../support/memory-locks.js';

const tags = tagConfig({});
const deps = (zd: FakeZendesk, locks = new MemoryTicketLocks(), me = execution()) => ({ zendesk: zd, tags, locks, execution: me });

describe('MarkTicket', () => {
  test('adds vault_processing and removes the request tag (and an earlier end tag) in one write', async () => {
    const zd = new FakeZendesk();
    zd.addTicket('7', 'open', ['vip', 'vault_archive', 'vault_failed']);
    await expect(markTicket('7', deps(zd))).resolves.toEqual({ ticketId: '7', ticketStatus: 'open', context: {}, tagged: true });
    expect(zd.tickets.get('7')!.tags).toEqual(['vip', 'vault_processing']);
    expect(zd.calls.filter((c) => c.startsWith('updateTags'))).toHaveLength(1);
  });

  test('a closed ticket is recorded, not written to, and not a failure', async () => {
    const zd = new FakeZendesk();
    zd.addTicket('8', 'closed', ['x']);
    await expect(markTicket('8', deps(zd))).resolves.toEqual({ ticketId: '8', ticketStatus: 'closed', context: {}, tagged: false, reason: 'ticket_closed' });
    expect(zd.calls.some((c) => c.startsWith('updateTags'))).toBe(false);
  });

  test('an unknown ticket throws TicketNotFound and writes nothing (not even the lock)', async () => {
    const zd = new FakeZendesk();
    const locks = new MemoryTicketLocks();
    await expect(markTicket('404', deps(zd, locks))).rejects.toBeInstanceOf(TicketNotFound);
    expect(zd.calls).toEqual(['getTicket 404']);
    expect(locks.held.size).toBe(0);
  });

  test('another execution of the ticket running: alreadyRunning names it, and nothing is written', async () => {
    const zd = new FakeZendesk();
    zd.addTicket('7', 'open', ['vault_archive']);
    const locks = new MemoryTicketLocks();
    const first = execution('zd-7-1');
    await markTicket('7', deps(zd, locks, first));
    locks.running.add(first.executionArn);
    zd.calls.length = 0;
    await expect(markTicket('7', deps(zd, locks, execution('rerun-7-2')))).resolves.toEqual({ ticketId: '7', ticketStatus: 'open', context: {}, tagged: false, alreadyRunning: 'zd-7-1' });
    expect(zd.calls).toEqual(['getTicket 7']);
  });

  test('the same execution again (a retry, a redrive) keeps its lock; a holder that ended is taken over', async () => {
    const zd = new FakeZendesk();
    zd.addTicket('7', 'open');
    const locks = new MemoryTicketLocks();
    const first = execution('zd-7-1');
    await markTicket('7', deps(zd, locks, first));
    locks.running.add(first.executionArn);
    await expect(markTicket('7', deps(zd, locks, first))).resolves.toMatchObject({ tagged: true });
    locks.running.clear();
    await expect(markTicket('7', deps(zd, locks, execution('rerun-7-2')))).resolves.toMatchObject({ tagged: true });
    expect(locks.held.get('7')?.executionName).toBe('rerun-7-2');
  });
});

describe('the ticket context for the archive index', () => {
  test('carries the requester, brand and creation date as strings, and drops what is not an ID or a date', async () => {
    const { ticketContextOf } = await import('../../../lambdas/mark-ticket/mark.js');
    const ticket = { id: 7, status: 'open', updated_at: '2026-01-02T00:00:00Z', tags: [] };
    expect(ticketContextOf({ ...ticket, requester_id: 900_000_000_123, brand_id: 360_001, created_at: '2026-01-01T10:00:00Z' })).toEqual({
      requesterId: '900000000123',
      brandId: '360001',
      createdAt: '2026-01-01T10:00:00.000Z',
    });
    expect(ticketContextOf({ ...ticket, requester_id: -1, created_at: 'yesterday' } as never)).toEqual({});
  });
});
