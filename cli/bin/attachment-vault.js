#!/usr/bin/env node
// The package's command. Plain JavaScript, so nothing is compiled at run time: it checks the Node.js version, quiets
// one known warning, and runs the CLI that `npm run build` bundled into dist/ (npm ci runs the build).
const [major] = process.versions.node.split('.').map(Number);
if (major < 22) {
  process.stderr.write(`attachment-vault needs Node.js 22 or newer (this is ${process.version}). Run it through npx or npm scripts after npm ci, which bring Node 22 on Linux x64.\n`);
  process.exit(2);
}

// The embedded S3 (fauxqs) persists through node:sqlite, which prints "SQLite is an experimental feature" on every
// start. That one warning says nothing about this program; every other warning still reaches stderr.
const emitWarning = process.emitWarning;
process.emitWarning = function (warning, ...rest) {
  const message = typeof warning === 'string' ? warning : warning?.message;
  const type = typeof rest[0] === 'string' ? rest[0] : (rest[0]?.type ?? warning?.name);
  if (type === 'ExperimentalWarning' && /^SQLite is an experimental feature/.test(message ?? '')) return;
  return emitWarning.call(process, warning, ...rest);
};

let cli;
try {
  cli = await import('../../dist/cli/main.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('dist/cli/main.js')) throw error;
  process.stderr.write('attachment-vault is not built: run `npm ci` (or `npm run build`) in the project folder first.\n');
  process.exit(2);
}
// Exit explicitly: embedded servers and keep-alive sockets must not keep a finished command alive.
process.exit(await cli.main(process.argv.slice(2)));
