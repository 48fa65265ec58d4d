/** The invariant checker itself: fed states that break the hard rule, it reports each breach (and nothing else). */
import { describe, expect, test } from '@jest/globals';
import { violationsOf, type FileVerdict } from './invariant.js';

const good = (extra: Partial<FileVerdict> = {}): FileVerdict => ({
  attachmentId: 7,
  zendesk: 'redacted',
  goodKeys: ['tickets/1/7.pdf'],
  badKeys: [],
  reported: { outcome: 'archived', redacted: true, s3Key: 'tickets/1/7.pdf' },
  redactionRequests: 1,
  ...extra,
});

describe('violationsOf', () => {
  test('archived, verified and redacted once; or still in Zendesk and reported: no violation', () => {
    expect(violationsOf([good(), good({ attachmentId: 8, zendesk: 'present', goodKeys: [], reported: { outcome: 'failed', redacted: false, reason: 'DownloadIncomplete' }, redactionRequests: 0 })])).toEqual([]);
  });

  test('redacted in Zendesk without a verified copy in S3', () => {
    expect(violationsOf([good({ goodKeys: [], badKeys: ['tickets/1/7.pdf'] })])).toEqual([
      '7: REDACTED in Zendesk but not verifiably in S3 (bad keys: tickets/1/7.pdf)',
      '7: reported archived at tickets/1/7.pdf, which does not hold the file',
    ]);
    expect(violationsOf([good({ goodKeys: [], reported: { outcome: 'skipped', redacted: false } })])).toEqual(['7: REDACTED in Zendesk but not verifiably in S3 (bad keys: none)']);
  });

  test('redacted twice', () => {
    expect(violationsOf([good({ redactionRequests: 2 })])).toEqual(['7: REDACTED TWICE (named in 2 redaction requests)']);
  });

  test('still in Zendesk but reported redacted, or not reported at all', () => {
    expect(violationsOf([good({ zendesk: 'present' })])).toEqual(['7: reported redacted but still in Zendesk']);
    expect(violationsOf([good({ zendesk: 'present', reported: undefined, redactionRequests: 0 })])).toEqual(['7: still in Zendesk but missing from the report']);
  });

  test('lost: not in Zendesk at all', () => {
    expect(violationsOf([good({ zendesk: 'missing' })])).toEqual(['7: not in Zendesk at all (the sandbox lost it?)']);
  });
});
