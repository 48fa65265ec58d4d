import { listAttachments } from '../../../lambdas/list-attachments/list.js';
import { FakeZendesk } from '../../support/fake-zendesk.js';

describe('ListAttachments', () => {
  test('lists IDs and sizes only, skips redaction placeholders, keeps deleted files for the copy step to report', async () => {
    const zd = new FakeZendesk();
    zd.addTicket('9');
    zd.addComment('9', 100, [{ id: 1, size: 5 }, { id: 2, inline: true, size: 6 }]);
    zd.addComment('9', 101, [{ id: 3, file_name: 'redacted.txt', size: 0 }, { id: 4, deleted: true, size: 7 }]);
    const result = await listAttachments('9', { zendesk: zd, maxConcurrency: 3, inlineMaxFiles: 200 });
    expect(result).toEqual({
      ticketId: '9',
      attachments: [
        { attachmentId: 1, commentId: 100, size: 5, inline: false },
        { attachmentId: 2, commentId: 100, size: 6, inline: true },
        { attachmentId: 4, commentId: 101, size: 7, inline: false },
      ],
      count: 3,
      pages: 1,
      maxConcurrency: 3,
    });
    expect(JSON.stringify(result)).not.toMatch(/file|content_url|https?:/);
  });
});
