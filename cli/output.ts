/**
 * stdout belongs to the command's one JSON document. Everything else that writes to stdout (the Powertools
 * Logger in the in-process handlers, libraries) is moved to stderr before any of it is loaded.
 *
 * The document goes through the real stdout stream, and every command waits for it to be written (flushStdout)
 * before the process exits: a synchronous write to a pipe that is full is partial, and exiting right after one
 * cut a large document short (146 KB of a 3,000-file run's ~600 KB arrived).
 */
const toStdout = process.stdout.write.bind(process.stdout) as (chunk: string, callback: (error?: Error | null) => void) => boolean;
let written: Promise<void> = Promise.resolve();
let reserved = false;

export function reserveStdout(): void {
  if (reserved) return;
  reserved = true;
  const toStderr = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  process.stdout.write = toStderr;
}

function write(text: string): void {
  written = written.then(
    () =>
      new Promise<void>((resolve) => {
        // An error (EPIPE: the reader went away) has nowhere to be reported; the exit code still says how it went.
        toStdout(text, () => resolve());
      }),
  );
}

export function printJson(document: unknown): void {
  write(`${JSON.stringify(document, null, 2)}\n`);
}

export function printLine(text: string): void {
  write(`${text}\n`);
}

/** Resolves once everything printed so far has been handed to the operating system. */
export function flushStdout(): Promise<void> {
  return written;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}
