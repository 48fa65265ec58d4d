import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import {
  chooseContentType,
  contentDisposition,
  encodeOriginalName,
  MAX_ENCODED_NAME_LENGTH,
  objectMetadata,
} from '../../../../lambdas/shared/archive.js';

const identity = { ticketId: '12345678901234567890', commentId: 2 ** 52, attachmentId: 2 ** 52, size: 5 * 2 ** 30 };

function metadataBytes(metadata: Record<string, string>): number {
  return Object.entries(metadata).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
}

describe('original-name metadata', () => {
  test('is encodeURIComponent of the file name', () => {
    expect(objectMetadata({ ...identity, fileName: 'Relevé de compte.pdf' })['original-name']).toBe(
      encodeURIComponent('Relevé de compte.pdf'),
    );
    expect(objectMetadata({ ...identity, fileName: 'a.pdf' })).toEqual({
      'ticket-id': identity.ticketId,
      'comment-id': String(identity.commentId),
      'attachment-id': String(identity.attachmentId),
      'original-name': 'a.pdf',
      size: String(identity.size),
    });
  });

  test('encodes control characters, path separators and the RTL override', () => {
    const value = encodeOriginalName('../../x\r\n\u202Egpj.exe').value;
    expect(value).toBe('..%2F..%2Fx%0D%0A%E2%80%AEgpj.exe');
  });

  test('turns invalid UTF-16 (a lone surrogate) into U+FFFD instead of throwing', () => {
    expect(encodeOriginalName('\uD800x.pdf').value).toBe('%EF%BF%BDx.pdf');
  });

  test('cuts a 1000-character name to the budget, keeps the extension and flags the cut', () => {
    const name = '給与明細'.repeat(250) + '.PDF';
    const { value, truncated } = encodeOriginalName(name);
    expect(truncated).toBe(true);
    expect(value.length).toBeLessThanOrEqual(MAX_ENCODED_NAME_LENGTH);
    expect(value.endsWith('.PDF')).toBe(true);
    expect(() => decodeURIComponent(value)).not.toThrow();
    expect(objectMetadata({ ...identity, fileName: name })['original-name-truncated']).toBe('true');
  });

  test('whatever the name, the metadata is ASCII and far below S3 2 KB limit, sha256 included', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 3000 }), (fileName) => {
        const metadata = { ...objectMetadata({ ...identity, fileName }), sha256: 'f'.repeat(64) };
        expect(metadataBytes(metadata)).toBeLessThan(1400);
        for (const value of Object.values(metadata)) expect(value).toMatch(/^[\x21-\x7e]*$/);
      }),
      { numRuns: 300 },
    );
  });
});

describe('contentDisposition', () => {
  test('has an ID-based ASCII fallback and the RFC 5987 name', () => {
    expect(contentDisposition(42, '.pdf', "Tom's (draft) *v2*.pdf")).toBe(
      `attachment; filename="42.pdf"; filename*=UTF-8''Tom%27s%20%28draft%29%20%2Av2%2A.pdf`,
    );
  });

  test('no file name can inject a header, a quote or a parameter', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 1200 }), (name) => {
        const header = contentDisposition(7, undefined, name);
        expect(header).toMatch(/^attachment; filename="7"; filename\*=UTF-8''[A-Za-z0-9%!#$&+\-.^_`|~]*$/);
        expect(header.length).toBeLessThan(1100);
      }),
      { numRuns: 300 },
    );
  });
});

describe('chooseContentType', () => {
  test('prefers the detected type, then a sane declared type, then octet-stream', () => {
    expect(chooseContentType('image/png', 'text/plain')).toBe('image/png');
    expect(chooseContentType(undefined, 'Text/Plain; charset=utf-8')).toBe('text/plain');
    expect(chooseContentType(undefined, 'text/html\r\nX-Evil: 1')).toBe('application/octet-stream');
    expect(chooseContentType(undefined, undefined)).toBe('application/octet-stream');
  });
});
