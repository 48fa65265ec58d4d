import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { archiveKey, extensionFromName, isAttachmentKey, saneExtension } from '../../../../lambdas/shared/archive.js';
import { InvalidInput } from '../../../../lambdas/shared/errors.js';

const KEY_SHAPE = /^tickets\/[0-9]{1,20}\/[1-9][0-9]*(\.[a-z0-9]{1,10})?$/;

describe('extensionFromName', () => {
  test.each([
    ['Report.PDF', '.pdf'],
    ['archive.tar.gz', '.gz'],
    ['scan 2026-08-17.JPEG', '.jpeg'],
    ['a'.repeat(996) + '.pdf', '.pdf'],
    ['\uD800broken-utf16.pdf', '.pdf'],
    ['invoice\u202Efdp.exe', '.exe'],
    ['..\\..\\boot.ini', '.ini'],
  ])('keeps the sane, lower-cased extension of %j', (name, ext) => {
    expect(extensionFromName(name)).toBe(ext);
  });

  test.each([
    ['noextension'],
    ['.bashrc'],
    ['..pdf'],
    ['dir/.pdf'],
    ['trailing.'],
    ['file.verylongext1'],
    ['../../etc/passwd'],
    ['name.pdf\n'],
    ['name.p\u0000df'],
    ['name.pdf '],
    ['photo.jpg\u200B'],
    ['fullwidth.\uFF50\uFF44\uFF46'],
    ['evil.pdf/..'],
    [''],
  ])('has no extension for %j', (name) => {
    expect(extensionFromName(name)).toBeUndefined();
  });
});

describe('saneExtension', () => {
  test('accepts a detected extension and refuses an odd one', () => {
    expect(saneExtension('png')).toBe('.png');
    expect(saneExtension('PNG')).toBe('.png');
    expect(saneExtension(undefined)).toBeUndefined();
    expect(saneExtension('tar.gz')).toBeUndefined();
    expect(saneExtension('../x')).toBeUndefined();
  });
});

describe('archiveKey', () => {
  test('is tickets/{ticketId}/{attachmentId}{ext}', () => {
    expect(archiveKey('123', 456, '.pdf')).toBe('tickets/123/456.pdf');
    expect(archiveKey('123', 456, undefined)).toBe('tickets/123/456');
  });

  test('whatever the file name, the key is made of IDs and at most a short [a-z0-9] extension', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 1200 }), fc.nat({ max: 2 ** 40 }), (name, id) => {
        const key = archiveKey('987', id + 1, extensionFromName(name));
        expect(key).toMatch(KEY_SHAPE);
      }),
      { numRuns: 500 },
    );
  });

  test.each([['../1'], ['1/2'], [''], ['12a'], ['1'.repeat(21)]])('refuses the ticket ID %j', (ticketId) => {
    expect(() => archiveKey(ticketId, 1, undefined)).toThrow(InvalidInput);
  });

  test.each([[0], [-1], [1.5], [Number.NaN], [2 ** 60]])('refuses the attachment ID %p', (id) => {
    expect(() => archiveKey('1', id, undefined)).toThrow(InvalidInput);
  });

  test('refuses an extension that is not sane', () => {
    expect(() => archiveKey('1', 2, '/../x')).toThrow(InvalidInput);
  });
});

describe('isAttachmentKey', () => {
  test('matches the base key and base + extension, never a longer ID', () => {
    const base = 'tickets/1/12';
    expect(isAttachmentKey('tickets/1/12', base)).toBe(true);
    expect(isAttachmentKey('tickets/1/12.pdf', base)).toBe(true);
    expect(isAttachmentKey('tickets/1/123.pdf', base)).toBe(false);
    expect(isAttachmentKey('tickets/1/123', base)).toBe(false);
    expect(isAttachmentKey('tickets/1/12.pdf.bak', base)).toBe(false);
    expect(isAttachmentKey('tickets/1/12/x', base)).toBe(false);
  });
});
