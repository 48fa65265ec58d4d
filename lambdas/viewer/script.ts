/**
 * The viewer page's script (served as /viewer.js): plain browser JavaScript in a string, so it needs no bundler and
 * cannot import anything. Everything it shows goes through textContent (file names are attacker-controlled), and the
 * token lives in sessionStorage only (gone when the tab closes).
 */
export const PAGE_SCRIPT = String.raw`'use strict';
(() => {
  const config = JSON.parse(document.getElementById('config').textContent);
  const $ = (id) => document.getElementById(id);
  const TOKEN = 'attachment-vault.token';
  const state = { ticketReason: new Map(), files: [], lastSearch: null };

  const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const randomString = () => b64url(crypto.getRandomValues(new Uint8Array(32)));
  const redirectUri = () => location.origin + location.pathname;

  async function discovery() {
    const response = await fetch(config.issuer.replace(/\/$/, '') + '/.well-known/openid-configuration');
    if (!response.ok) throw new Error('the identity provider did not answer');
    return response.json();
  }

  async function signIn() {
    if (config.mode === 'local') { location.assign('local-sign-in'); return; }
    const meta = await discovery();
    const verifier = randomString();
    const stateValue = randomString();
    sessionStorage.setItem('attachment-vault.pkce', JSON.stringify({ verifier, state: stateValue }));
    const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
    const url = new URL(meta.authorization_endpoint);
    url.search = new URLSearchParams({ response_type: 'code', client_id: config.clientId, redirect_uri: redirectUri(), scope: config.scope || 'openid email profile', state: stateValue, code_challenge: challenge, code_challenge_method: 'S256' }).toString();
    location.assign(url.toString());
  }

  async function finishSignIn(params) {
    const saved = JSON.parse(sessionStorage.getItem('attachment-vault.pkce') || '{}');
    sessionStorage.removeItem('attachment-vault.pkce');
    if (!saved.state || saved.state !== params.get('state')) throw new Error('the sign-in did not come from this page');
    const meta = await discovery();
    const response = await fetch(meta.token_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: params.get('code'), redirect_uri: redirectUri(), client_id: config.clientId, code_verifier: saved.verifier }),
    });
    if (!response.ok) throw new Error('the identity provider refused the sign-in');
    const tokens = await response.json();
    sessionStorage.setItem(TOKEN, tokens.id_token);
  }

  function status(text, isError) {
    $('status').textContent = text;
    $('status').classList.toggle('error', Boolean(isError));
  }

  async function api(path, options) {
    const response = await fetch(path, { ...(options || {}), headers: { authorization: 'Bearer ' + sessionStorage.getItem(TOKEN), 'content-type': 'application/json' } });
    const body = await response.json().catch(() => ({}));
    if (response.status === 401) { sessionStorage.removeItem(TOKEN); show(); throw new Error('please sign in again'); }
    if (!response.ok) throw new Error(body.message || 'request failed (' + response.status + ')');
    return body;
  }

  const size = (n) => n < 1024 ? n + ' B' : n < 1048576 ? (n / 1024).toFixed(1) + ' KB' : (n / 1048576).toFixed(1) + ' MB';
  const when = (iso) => iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '—';
  const PREVIEWABLE = ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf'];

  function cell(row, text) { const td = document.createElement('td'); td.textContent = text; row.appendChild(td); return td; }

  function button(label, accessibleName, onClick, secondary) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = label;
    b.setAttribute('aria-label', accessibleName);
    if (secondary) b.className = 'secondary';
    b.addEventListener('click', onClick);
    return b;
  }

  function renderFiles() {
    const body = $('files').querySelector('tbody');
    body.replaceChildren();
    for (const file of state.files) {
      const row = document.createElement('tr');
      cell(row, file.fileName);
      cell(row, file.ticketId);
      cell(row, file.contentType);
      cell(row, size(file.size));
      cell(row, when(file.archivedAt));
      cell(row, when(file.redactedAt));
      const actions = cell(row, '');
      actions.className = 'actions';
      if (PREVIEWABLE.includes(file.contentType)) actions.appendChild(button('Preview', 'Preview ' + file.fileName, () => openFile(file, 'view')));
      actions.appendChild(button('Download', 'Download ' + file.fileName, () => openFile(file, 'open'), true));
      body.appendChild(row);
    }
    $('files-caption').textContent = state.files.length + ' archived file' + (state.files.length === 1 ? '' : 's') + ' for ' + state.lastSearch.kind + ' ' + state.lastSearch.id;
    $('results').hidden = false;
  }

  async function search(event) {
    event.preventDefault();
    const kind = $('kind').value;
    const id = $('query').value.trim();
    if (!/^[1-9][0-9]{0,19}$/.test(id)) { status('Enter a Zendesk ID: digits only.', true); return; }
    status('Searching…');
    $('preview').hidden = true;
    try {
      const result = await api('api/files?' + new URLSearchParams({ [kind]: id }));
      state.files = result.files;
      state.lastSearch = { kind, id };
      $('reason').value = state.ticketReason.get(kind + id) || '';
      renderFiles();
      status(state.files.length ? 'Type why you need them, then preview or download.' : 'No archived files for this ' + kind + '.');
      await refreshAudit();
    } catch (error) { status(error.message, true); }
  }

  async function refreshAudit() {
    const tickets = [...new Set(state.files.map((f) => f.ticketId))];
    const body = $('audit-table').querySelector('tbody');
    body.replaceChildren();
    if (tickets.length === 0) { $('audit').hidden = true; return; }
    const results = await Promise.all(tickets.map((t) => api('api/audit?' + new URLSearchParams({ ticket: t }))));
    const entries = results.flatMap((r) => r.entries).sort((a, b) => b.at.localeCompare(a.at));
    for (const e of entries) {
      const row = document.createElement('tr');
      [when(e.at), e.actor, e.action, e.attachmentId || '—', e.reason].forEach((text) => cell(row, text));
      body.appendChild(row);
    }
    $('audit-title').textContent = 'Access log (' + (tickets.length === 1 ? 'ticket ' + tickets[0] : tickets.length + ' tickets') + ')';
    $('audit').hidden = false;
  }

  async function openFile(file, action) {
    const reason = $('reason').value.trim();
    if (!reason) { status('Type why you need to open these files first.', true); $('reason').focus(); return; }
    state.ticketReason.set(state.lastSearch.kind + state.lastSearch.id, reason);
    try {
      const link = await api('api/open', { method: 'POST', body: JSON.stringify({ attachmentId: file.attachmentId, reason, action }) });
      if (action === 'view') showPreview(file, link.url);
      else { const a = document.createElement('a'); a.href = link.url; a.rel = 'noopener'; document.body.appendChild(a); a.click(); a.remove(); }
      status((action === 'view' ? 'Previewing ' : 'Downloading ') + file.fileName + ' (link valid until ' + when(link.expiresAt) + ', recorded in the access log).');
      await refreshAudit();
    } catch (error) { status(error.message, true); }
  }

  function showPreview(file, url) {
    const frame = $('preview-frame');
    frame.replaceChildren();
    let element;
    if (file.contentType === 'application/pdf') { element = document.createElement('iframe'); element.title = 'Preview of ' + file.fileName; }
    else { element = document.createElement('img'); element.alt = 'Preview of ' + file.fileName; }
    element.src = url;
    frame.appendChild(element);
    $('preview-name').textContent = file.fileName + ' — ' + file.contentType + ', ' + size(file.size);
    $('preview').hidden = false;
    $('preview').scrollIntoView({ block: 'nearest' });
  }

  async function show() {
    const token = sessionStorage.getItem(TOKEN);
    $('signin').hidden = Boolean(token);
    $('app').hidden = !token;
    $('who').hidden = !token;
    if (!token) return;
    try {
      const me = await api('api/me');
      $('actor').textContent = me.actor;
      $('query').focus();
    } catch (error) { status(error.message, true); }
  }

  async function start() {
    $('signin-button').addEventListener('click', () => signIn().catch((e) => alert(e.message)));
    $('signout').addEventListener('click', () => { sessionStorage.removeItem(TOKEN); show(); });
    $('search').addEventListener('submit', search);
    $('reason-form').addEventListener('submit', (e) => e.preventDefault());
    const params = new URLSearchParams(location.search);
    if (params.get('local_token') && config.mode === 'local') sessionStorage.setItem(TOKEN, params.get('local_token'));
    if (params.get('code')) await finishSignIn(params).catch((e) => alert(e.message));
    if (params.toString()) history.replaceState(null, '', redirectUri());
    await show();
  }

  start();
})();
`;
