/**
 * The viewer in a real browser: headless Chromium (Debian's `chromium` package, CHROMIUM_PATH to use another) driven
 * by playwright-core. A ticket is archived through the workflow; the browser signs in with the local stand-in,
 * searches the ticket, types a reason, previews the image (which loads through the link gate) and sees the view in
 * the access log, which the audit trail confirms. With VIEWER_SCREENSHOTS=docs it also writes the README's screenshots.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import type { LocalRuntime } from '../../local/runtime/local.js';
import type { LocalArchive } from '../../local/runtime/archive.js';
import type { LocalViewer } from '../../cli/viewer.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const SHOTS = process.env.VIEWER_SCREENSHOTS ? resolve(process.env.VIEWER_SCREENSHOTS) : undefined;

let runtime: LocalRuntime;
let archive: LocalArchive;
let viewer: LocalViewer;
let browser: Browser;
let dataDir: string;

beforeAll(async () => {
  if (!CHROMIUM) throw new Error('no Chromium: install Debian\'s chromium package (.ci/run does), or set CHROMIUM_PATH');
  dataDir = await mkdtemp(join(tmpdir(), 'vault-viewer-'));
  const env: NodeJS.ProcessEnv = { ...process.env, ATTACHMENT_VAULT_DATA_DIR: dataDir };
  for (const key of ['ZENDESK_URL', 'AWS_ENDPOINT_URL_S3', 'ARCHIVE_BUCKET', 'IDEMPOTENCY_TABLE', 'ARCHIVE_INDEX_TABLE', 'NOTIFY_WEBHOOK_URL']) delete env[key];
  const { openLocal } = await import('../../local/runtime/local.js');
  const { openLocalArchive } = await import('../../local/runtime/archive.js');
  const { startLocalViewer } = await import('../../cli/viewer.js');
  runtime = await openLocal({ env, retryIntervalMs: 0, waitMs: 0 });
  archive = await openLocalArchive({ env: { ATTACHMENT_VAULT_DATA_DIR: dataDir } });
  viewer = await startLocalViewer(archive, { port: 0 });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
});

afterAll(async () => {
  await browser?.close();
  await viewer?.close();
  await archive?.close();
  await runtime?.close();
  await rm(dataDir, { recursive: true, force: true });
});

test('signs in, searches a ticket, previews an image, and the access log shows the view', async () => {
  const { runTicket } = await import('../../cli/run.js');
  expect((await runTicket(runtime, '1001')).status).toBe('SUCCEEDED');
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const problems: string[] = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(e.message));

  await page.goto(viewer.url);
  await page.getByRole('note').filter({ hasText: 'Local sandbox' }).waitFor();
  if (SHOTS) await page.screenshot({ path: join(SHOTS, 'viewer-sign-in.png') });
  await page.getByRole('button', { name: 'Sign in (local stand-in)' }).click();
  await page.getByLabel('Your name').fill('Alice Example');
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByText('Signed in as').waitFor();
  expect(await page.locator('#actor').textContent()).toBe('Alice Example');

  await page.getByLabel('ID').fill('1001');
  await page.keyboard.press('Enter');
  await page.getByRole('cell', { name: 'id-card-front', exact: true }).waitFor();
  await page.getByLabel(/Why do you need to open these files/).fill('verifying identity for case 4711');
  await page.getByRole('button', { name: 'Preview id-card-front' }).click();
  const image = page.getByRole('img', { name: 'Preview of id-card-front' });
  await image.waitFor();
  // The image really loaded through the signed link (evaluated in the page).
  await page.waitForFunction("(() => { const img = document.querySelector('#preview-frame img'); return Boolean(img && img.complete && img.naturalWidth > 0); })()");
  const log = page.locator('#audit-table tbody tr').first();
  await log.getByText('view').waitFor();
  expect(await log.textContent()).toContain('Alice Example');
  expect(await log.textContent()).toContain('verifying identity for case 4711');
  if (SHOTS) await page.screenshot({ path: join(SHOTS, 'viewer-ticket.png'), fullPage: true });
  expect(problems).toEqual([]);

  const entries = await archive.audit.query({ ticketId: '1001' });
  expect(entries.map((e) => [e.action, e.actor, e.reason])).toEqual([['view', 'Alice Example', 'verifying identity for case 4711']]);
});
