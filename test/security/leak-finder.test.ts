/** The leak finder used by no-leak.test.ts: it finds every forbidden value, and its report never repeats one. */
import { describe, expect, test } from '@jest/globals';
import { assertNoLeaks, findLeaks } from './capture.js';

const SECRET = 'S3cr3t-value-0123456789abcdef';
const NAME = 'invoice\u202Efdp.exe';

describe('findLeaks', () => {
  test('names the channel and what leaked, with the value replaced in the excerpt', () => {
    const leaks = findLeaks(
      [
        { name: 'log line 1', text: `{"message":"token obtained","token":"${SECRET}"}` },
        { name: 'log line 2', text: '{"message":"clean"}' },
      ],
      [{ label: 'api token', value: SECRET }],
    );
    expect(leaks).toEqual([{ channel: 'log line 1', label: 'api token', excerpt: JSON.stringify('{"message":"token obtained","token":"⟦api token⟧"}') }]);
  });

  test('an excerpt never cuts another forbidden value in half: the window widens to redact it whole', () => {
    const text = `${'a'.repeat(100)}${SECRET}${'b'.repeat(70)}${NAME}${'c'.repeat(100)}`;
    const [leak, ...rest] = findLeaks([{ name: 'history', text }], [
      { label: 'file name', value: NAME },
      { label: 'api token', value: SECRET },
    ]);
    expect(rest).toHaveLength(1);
    expect(leak?.excerpt).toContain('⟦api token⟧');
    expect(leak?.excerpt).not.toContain(SECRET.slice(0, 8));
    expect(leak?.excerpt).not.toContain(SECRET.slice(-8));
  });

  test('assertNoLeaks throws one error listing every leak, and passes on clean channels', () => {
    expect(() => assertNoLeaks([{ name: 'notification', text: `file ${NAME}` }], [{ label: 'file name (rtl)', value: NAME }])).toThrow(
      /1 leak\(s\) found:\n {2}- \[notification\] file name \(rtl\)/,
    );
    expect(() => assertNoLeaks([{ name: 'notification', text: 'ids only' }], [{ label: 'file name (rtl)', value: NAME }])).not.toThrow();
  });
});
