/**
 * The viewer's page: one server-rendered HTML shell, one stylesheet and one small script, all served by the viewer
 * itself (no third-party asset, no framework, no build step). The same page runs in AWS, where the person signs in
 * with the team's identity provider (OpenID Connect authorization code flow with PKCE, against the stack's Cognito user
 * pool or the configured issuer), and locally, where a clearly marked stand-in asks only for a name.
 *
 * The script talks to three endpoints with the ID token as a Bearer token: GET /api/files, POST /api/open,
 * GET /api/audit. Every preview and download goes through /api/open (audited, a link of at most 5 minutes), with the
 * reason typed once per ticket shown.
 */

export interface PageConfig {
  mode: 'oidc' | 'local';
  /** OIDC issuer (its /.well-known/openid-configuration is read by the page). */
  issuer?: string;
  clientId?: string;
  scope?: string;
}

export function pageHtml(config: PageConfig): string {
  const local = config.mode === 'local';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>attachment-vault archive${local ? ' (local)' : ''}</title>
<link rel="stylesheet" href="viewer.css">
<script type="application/json" id="config">${JSON.stringify(config).replace(/</g, '\\u003c')}</script>
<script src="viewer.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header>
  <h1>attachment-vault archive</h1>
  <p id="who" hidden>Signed in as <strong id="actor"></strong> <button type="button" id="signout">Sign out</button></p>
</header>
${local ? '<p class="local-banner" role="note"><strong>Local sandbox.</strong> Sign-in here is a stand-in with no password: it only names who is looking. The deployed viewer signs in with your identity provider.</p>' : ''}
<main id="main" tabindex="-1">
  <section id="signin" hidden aria-labelledby="signin-title">
    <h2 id="signin-title">Sign in</h2>
    <p>Archived files are visible to the archive's readers only. Every preview and download is recorded with your name and reason.</p>
    <button type="button" id="signin-button">${local ? 'Sign in (local stand-in)' : 'Sign in'}</button>
  </section>
  <section id="app" hidden aria-labelledby="search-title">
    <h2 id="search-title">Find files</h2>
    <form id="search">
      <label for="kind">Search by</label>
      <select id="kind"><option value="ticket">Ticket ID</option><option value="requester">Requester ID</option></select>
      <label for="query" class="visually-hidden">ID</label>
      <input id="query" inputmode="numeric" pattern="[1-9][0-9]{0,19}" required autocomplete="off" placeholder="e.g. 1001">
      <button type="submit">Search</button>
    </form>
    <p id="status" role="status" aria-live="polite"></p>
    <div id="results" hidden>
      <form id="reason-form">
        <label for="reason">Why do you need to open these files? Recorded with every preview and download.</label>
        <input id="reason" maxlength="500" required autocomplete="off">
      </form>
      <table id="files">
        <caption id="files-caption"></caption>
        <thead><tr><th scope="col">Name</th><th scope="col">Ticket</th><th scope="col">Type</th><th scope="col">Size</th><th scope="col">Archived</th><th scope="col">Redacted</th><th scope="col">Open</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
    <section id="preview" hidden aria-labelledby="preview-title">
      <h2 id="preview-title">Preview</h2>
      <p id="preview-name"></p>
      <div id="preview-frame"></div>
    </section>
    <section id="audit" hidden aria-labelledby="audit-title">
      <h2 id="audit-title">Access log</h2>
      <table id="audit-table"><thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Attachment</th><th scope="col">Reason</th></tr></thead><tbody></tbody></table>
    </section>
  </section>
</main>
</body>
</html>
`;
}

export const PAGE_CSS = `:root { color-scheme: light; --ink: #1d2430; --muted: #5b6472; --line: #d6dbe3; --accent: #1f5fbf; --warn: #8a4b00; --warn-bg: #fff4e0; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #f6f7f9; }
header { display: flex; align-items: center; justify-content: space-between; gap: 1rem; padding: .75rem 1.5rem; background: #fff; border-bottom: 1px solid var(--line); }
h1 { font-size: 1.15rem; margin: 0; }
h2 { font-size: 1.05rem; margin: 0 0 .5rem; }
main { max-width: 72rem; margin: 0 auto; padding: 1.25rem 1.5rem 3rem; }
section { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 1rem 1.25rem; margin-bottom: 1rem; }
#app { background: none; border: 0; padding: 0; }
#app > h2 { margin-top: .25rem; }
form#search { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem; margin-bottom: .5rem; }
input, select, button { font: inherit; padding: .4rem .6rem; border: 1px solid #9aa3b2; border-radius: 4px; background: #fff; color: inherit; }
button { background: var(--accent); border-color: var(--accent); color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }
button:disabled { opacity: .5; cursor: not-allowed; }
:focus-visible { outline: 3px solid #f2b705; outline-offset: 2px; }
#reason-form { margin: .75rem 0; }
#reason-form label { display: block; margin-bottom: .25rem; font-weight: 600; }
#reason { width: 100%; max-width: 40rem; }
table { width: 100%; border-collapse: collapse; background: #fff; }
caption { text-align: left; padding: .25rem 0 .5rem; color: var(--muted); }
th, td { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; background: #eef1f5; }
td.actions { white-space: nowrap; }
td.actions button { margin-right: .35rem; padding: .25rem .55rem; }
#status { min-height: 1.4em; color: var(--muted); margin: .25rem 0; }
#status.error { color: #a11; }
#preview-frame img { max-width: 100%; max-height: 70vh; border: 1px solid var(--line); background: repeating-conic-gradient(#eee 0 25%, #fff 0 50%) 0 0 / 16px 16px; }
#preview-frame iframe { width: 100%; height: 70vh; border: 1px solid var(--line); }
.local-banner { margin: 0; padding: .6rem 1.5rem; background: var(--warn-bg); color: var(--warn); border-bottom: 1px solid #f0d3a3; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: .5rem; background: #fff; padding: .25rem .5rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
`;
