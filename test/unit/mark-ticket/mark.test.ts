import { markTicket } from '../../../lambdas/mark-ticket/mark.js';
import { tagConfig } from '../../../lambdas/shared/config.js';
import { TicketNotFound } from '../../../lambdas/shared/errors.js';
import { FakeZendesk } from '../../support/fake-zendesk.js';

const tags = tagConfig({});

describe('MarkTicket', () => {
  test('adds vault_processing and removes the request tag in one write', async () => {
    const zd = new FakeZendesk();
    zd.addTicket('7', 'open', ['vip', 'vault_archive']);
    await expect(markTicket('7', { zendesk: zd, tags })).resolves.toEqual({ ticketId: '7', ticketStatus: 'open', tagged: true });
    expect(zd.tickets.get('7')!.tags).toEqual(['vip', 'vault_processing']);
    expect(zd.calls.filter((c) => c.startsWith('updateTags'))).toHaveLength(1);
  });

  test('a closed ticket is recorded, not written to, and not a failure', async () => {
    const zd = new FakeZendesk();
    zd.addTicket('8', 'closed', ['x']);
    await expect(markTicket('8', { zendesk: zd, tags })).resolves.toEqual({ ticketId: '8', ticketStatus: 'closed', tagged: false, reason: 'ticket_closed' });
    expect(zd.calls.some((c) => c.startsWith('updateTags'))).toBe(false);
  });

  test('an unknown ticket throws TicketNotFound and writes nothing', async () => {
    const zd = new FakeZendesk();
    await expect(markTicket('404', { zendesk: zd, tags })).rejects.toBeInstanceOf(TicketNotFound);
    expect(zd.calls).toEqual(['getTicket 404']);
  });
});
