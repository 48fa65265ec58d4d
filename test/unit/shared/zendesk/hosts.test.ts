import { describe, expect, it } from '@jest/globals';
import { ConfigurationError } from '../../../../lambdas/shared/errors.js';
import { createHostMatcher, isAllowedContentHost, isOnOrigin } from '../../../../lambdas/shared/zendesk/hosts.js';

const allowed = (url: string, entries: string[]) => isAllowedContentHost(url, entries);

describe('allowed content hosts', () => {
  it('a wildcard pattern matches exactly one label, over https, on the default port', () => {
    const entries = ['*.zdusercontent.com'];
    expect(allowed('https://p14.zdusercontent.com/attachment/1015988/1?token=x', entries)).toBe(true);
    expect(allowed('https://zdusercontent.com/attachment/1', entries)).toBe(false);
    expect(allowed('https://a.b.zdusercontent.com/attachment/1', entries)).toBe(false);
    expect(allowed('http://p14.zdusercontent.com/attachment/1', entries)).toBe(false);
    expect(allowed('https://p14.zdusercontent.com:8443/attachment/1', entries)).toBe(false);
    expect(allowed('https://p14.zdusercontent.com.evil.example/attachment/1', entries)).toBe(false);
    expect(allowed('https://evilzdusercontent.com/attachment/1', entries)).toBe(false);
  });

  it('an exact hostname matches only itself, over https', () => {
    expect(allowed('https://files.example.com/x', ['files.example.com'])).toBe(true);
    expect(allowed('https://FILES.Example.com/x', ['files.example.com'])).toBe(true);
    expect(allowed('https://a.files.example.com/x', ['files.example.com'])).toBe(false);
    expect(allowed('http://files.example.com/x', ['files.example.com'])).toBe(false);
  });

  it('a full origin matches exactly that scheme, host and port', () => {
    const entries = ['http://localhost:8081'];
    expect(allowed('http://localhost:8081/attachment/1', entries)).toBe(true);
    expect(allowed('http://localhost:8082/attachment/1', entries)).toBe(false);
    expect(allowed('https://localhost:8081/attachment/1', entries)).toBe(false);
    expect(allowed('http://127.0.0.1:8081/attachment/1', entries)).toBe(false);
  });

  it('never matches a URL carrying user info', () => {
    expect(allowed('https://user:pass@p1.zdusercontent.com/x', ['*.zdusercontent.com'])).toBe(false);
    expect(allowed('http://user@localhost:8081/x', ['http://localhost:8081'])).toBe(false);
  });

  it('combines entries and ignores blanks', () => {
    const match = createHostMatcher([' *.zdusercontent.com ', '', 'http://127.0.0.1:9000']);
    expect(match(new URL('https://p1.zdusercontent.com/a'))).toBe(true);
    expect(match(new URL('http://127.0.0.1:9000/a'))).toBe(true);
    expect(match(new URL('https://example.com/a'))).toBe(false);
  });

  it('refuses invalid or over-broad entries as configuration errors', () => {
    for (const bad of ['*.com', '*', 'ftp://files.example.com', 'http://localhost:8081/path', 'bad host', '*.*.example.com']) {
      expect(() => createHostMatcher([bad])).toThrow(ConfigurationError);
    }
    expect(() => createHostMatcher([])).toThrow(ConfigurationError);
  });

  it('an unparsable URL is not allowed', () => {
    expect(allowed('not a url', ['*.zdusercontent.com'])).toBe(false);
  });

  it('isOnOrigin compares scheme, host and port', () => {
    expect(isOnOrigin(new URL('https://acme.zendesk.com/attachments/token/x/?name=a'), 'https://acme.zendesk.com')).toBe(true);
    expect(isOnOrigin(new URL('https://acme.zendesk.com:444/x'), 'https://acme.zendesk.com')).toBe(false);
    expect(isOnOrigin(new URL('https://evil.zendesk.com/x'), 'https://acme.zendesk.com')).toBe(false);
    expect(isOnOrigin(new URL('https://u:p@acme.zendesk.com/x'), 'https://acme.zendesk.com')).toBe(false);
  });
});
