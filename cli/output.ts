import { writeSync } from 'node:fs';

/**
 * stdout belongs to the command's one JSON document. Everything else that writes to stdout (the Powertools
 * Logger in the in-process handlers, libraries) is moved to stderr before any of it is loaded.
 */
let reserved = false;
export function reserveStdout(): void {
  if (reserved) return;
  reserved = true;
  const toStderr = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  process.stdout.write = toStderr;
}

export function printJson(document: unknown): void {
  writeSync(1, `${JSON.stringify(document, null, 2)}\n`);
}

export function printLine(text: string): void {
  writeSync(1, `${text}\n`);
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}
