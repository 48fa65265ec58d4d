/** `attachment-vault backfill`'s flags: defaults, and every refusal a usage error before anything starts. */
import { describe, expect, test } from '@jest/globals';
import { parseBackfillArgs } from '../../../cli/backfill-local.js';

const NOW = new Date('2026-12-31T23:30:00Z');

describe('backfill flags', () => {
  test('defaults: every ticket up to today (until is exclusive: tomorrow), the default terms, 10 at once', () => {
    expect(parseBackfillArgs([], NOW)).toEqual({ since: '2007-01-01', until: '2027-01-01', query: '', maxConcurrency: 10, dryRun: false });
  });

  test('each flag as given', () => {
    const args = ['--since', '2024-01-01', '--until', '2024-03-01', '--query', ' status:closed ', '--dry-run', '--max-concurrency', '40'];
    expect(parseBackfillArgs(args, NOW)).toEqual({ since: '2024-01-01', until: '2024-03-01', query: 'status:closed', maxConcurrency: 40, dryRun: true });
  });

  test.each([
    [['--since', '2024-02-30'], /--since/],
    [['--until', '20240301'], /--until/],
    [['--since', '2024-03-01', '--until', '2024-03-01'], /after --since/],
    [['--query', 'type:user'], /--query/],
    [['--query', 'created<2024-01-01'], /--query/],
    [['--max-concurrency', '0'], /--max-concurrency/],
    [['--max-concurrency', '2.5'], /--max-concurrency/],
  ])('%j is a usage error', (args, message) => {
    expect(() => parseBackfillArgs(args, NOW)).toThrow(expect.objectContaining({ name: 'UsageError', message: expect.stringMatching(message) }));
  });

  test('unknown flags and positionals are refused by the parser (exit 2)', () => {
    expect(() => parseBackfillArgs(['--windows', '3'], NOW)).toThrow(expect.objectContaining({ code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' }));
    expect(() => parseBackfillArgs(['start'], NOW)).toThrow(expect.objectContaining({ code: 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL' }));
  });
});
