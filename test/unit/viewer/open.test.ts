import { handleViewerRequest, contentSecurityPolicy, type ViewerDeps } from '../../../lambdas/viewer/api.js';
import { groupsOf, identityOf } from '../../../lambdas/viewer/identity.js';
import { openArchivedFile, MAX_LINK_SECONDS } from '../../../lambdas/viewer/open.js';
import { sessionNameOf } from '../../../lambdas/viewer/signer.js';
import type { AuditEntry } from '../../../lambdas/shared/archive-audit.js';
import type { IndexEntry } from '../../../lambdas/shared/archive-index.js';

const file: IndexEntry = {
  ticketId: '7', commentId: '8', attachmentId: '9', fileName: 'passport <scan>.png', contentType: 'image/png', size: 3, sha256: 'a'.repeat(64),
  s3Key: 'tickets/7/9.png', archivedAt: '2026-01-01T00:00:00.000Z',
};

function deps(entries: IndexEntry[] = [file]) {
  const audit: AuditEntry[] = [];
  const order: string[] = [];
  const d: ViewerDeps = {
    index: { get: async (id) => entries.find((e) => e.attachmentId === id), byTicket: async (t) => entries.filter((e) => e.ticketId === t), byRequester: async () => [], archivedBetween: async () => [] },
    audit: { append: async (e) => void (order.push('audit'), audit.push(e)), query: async () => audit },
    sign: async (_f, options) => (order.push('sign'), `https://bucket.example/x?expires=${options.expiresInSeconds}&cd=${encodeURIComponent(options.disposition)}`),
    page: { mode: 'local' },
    linkOrigins: ['https://bucket.example'],
    authOrigins: [],
  };
  return { d, audit, order };
}

describe('open', () => {
  test('writes the audit record before signing, and the link lives at most 5 minutes', async () => {
    const { d, audit, order } = deps();
    const link = await openArchivedFile({ ...d, expiresInSeconds: 3600, now: () => new Date('2026-02-01T00:00:00Z') }, { attachmentId: '9', reason: ' case 1 ', actor: 'ann', action: 'open' });
    expect(order).toEqual(['audit', 'sign']);
    expect(audit).toEqual([{ action: 'open', ticketId: '7', attachmentId: '9', actor: 'ann', reason: 'case 1', at: '2026-02-01T00:00:00.000Z' }]);
    expect(link.expiresAt).toBe('2026-02-01T00:05:00.000Z');
    expect(link.url).toContain(`expires=${MAX_LINK_SECONDS}`);
    expect(decodeURIComponent(link.url)).toContain("attachment; filename=\"9.png\"; filename*=UTF-8''passport%20%3Cscan%3E.png");
  });

  test('refuses without a reason, for an erased file, and previews only safe types; nothing is audited then', async () => {
    const { d, audit } = deps([file, { ...file, attachmentId: '10', erasedAt: '2026-01-02T00:00:00Z', fileName: undefined }, { ...file, attachmentId: '11', contentType: 'image/svg+xml' }]);
    await expect(openArchivedFile(d, { attachmentId: '9', reason: '  ', actor: 'ann', action: 'open' })).rejects.toMatchObject({ name: 'InvalidInput' });
    await expect(openArchivedFile(d, { attachmentId: '10', reason: 'x', actor: 'ann', action: 'open' })).rejects.toMatchObject({ name: 'FileNotArchived' });
    await expect(openArchivedFile(d, { attachmentId: '11', reason: 'x', actor: 'ann', action: 'view' })).rejects.toMatchObject({ name: 'InvalidInput' });
    expect(audit).toEqual([]);
  });
});

describe('the viewer API', () => {
  test('needs a signed-in reader: 401 without, 403 outside the group', async () => {
    const { d } = deps();
    expect((await handleViewerRequest(d, { method: 'GET', path: '/api/files', query: { ticket: '7' } }, undefined)).statusCode).toBe(401);
    expect((await handleViewerRequest(d, { method: 'GET', path: '/api/files', query: { ticket: '7' } }, { actor: 'bob', reader: false })).statusCode).toBe(403);
    const ok = await handleViewerRequest(d, { method: 'GET', path: '/api/files', query: { ticket: '7' } }, { actor: 'ann', reader: true });
    expect(JSON.parse(ok.body).files.map((f: { fileName: string }) => f.fileName)).toEqual(['passport <scan>.png']);
  });

  test('serves the page with a CSP that allows only itself and the link origin', async () => {
    const { d } = deps();
    const page = await handleViewerRequest(d, { method: 'GET', path: '/', query: {} }, undefined);
    expect(page.headers['content-security-policy']).toBe(contentSecurityPolicy(d));
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).toContain('img-src \'self\' https://bucket.example');
  });

  test('a view goes through open: audited as view, 400 for an unknown action', async () => {
    const { d, audit } = deps();
    const viewed = await handleViewerRequest(d, { method: 'POST', path: '/api/open', query: {}, body: JSON.stringify({ attachmentId: '9', reason: 'why', action: 'view' }) }, { actor: 'ann', reader: true });
    expect(viewed.statusCode).toBe(200);
    expect(audit.map((e) => e.action)).toEqual(['view']);
    expect((await handleViewerRequest(d, { method: 'POST', path: '/api/open', query: {}, body: '{"action":"print"}' }, { actor: 'ann', reader: true })).statusCode).toBe(400);
  });
});

describe('identity', () => {
  test('reads groups as HTTP API hands them over', () => {
    expect(groupsOf('[vault-readers admins]')).toEqual(['vault-readers', 'admins']);
    expect(groupsOf('["vault-readers"]')).toEqual(['vault-readers']);
    expect(groupsOf(['a', 'b'])).toEqual(['a', 'b']);
    expect(groupsOf('vault-readers')).toEqual(['vault-readers']);
    expect(groupsOf(undefined)).toEqual([]);
  });

  test('names the person by e-mail and checks the configured group', () => {
    const settings = { group: 'vault-readers', groupsClaim: 'cognito:groups' };
    expect(identityOf({ sub: 's', email: 'ann@acme.example', 'cognito:groups': '[vault-readers]' }, settings)).toEqual({ actor: 'ann@acme.example', reader: true });
    expect(identityOf({ sub: 's' }, settings)).toEqual({ actor: 's', reader: false });
    expect(identityOf(undefined, settings)).toBeUndefined();
  });

  test('session names keep to what STS allows', () => {
    expect(sessionNameOf('arn:aws:sts::1:assumed-role/Admin/ann@acme.example')).toMatch(/^[\w+=,.@-]{2,64}$/);
    expect(sessionNameOf('a')).toHaveLength(2);
  });
});
