#!/usr/bin/env node
// The package's command: runs the TypeScript CLI through tsx (Node >= 22).
import { register } from 'tsx/esm/api';

const [major] = process.versions.node.split('.').map(Number);
if (major < 22) {
  process.stderr.write(`attachment-vault needs Node.js 22 or newer (this is ${process.version}). Run it through npx or npm scripts after npm ci, which bring Node 22.\n`);
  process.exit(2);
}
register();
const { main } = await import('../cli/main.ts');
// Exit explicitly: embedded servers and keep-alive sockets must not keep a finished command alive.
process.exit(await main(process.argv.slice(2)));
