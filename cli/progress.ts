import type { HistoryEvent } from '../local/runtime/history.js';
import type { ListResult } from '../lambdas/shared/types.js';
import { formatBytes } from './format.js';

/** Where the progress line goes: stderr in the CLI, a fake stream in tests. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

/**
 * A live `copying: 3/10 files, 12.5 MB of 40.0 MB` line for a local run, fed by the engine's onEvent: the listing
 * gives the files and their sizes, each finished Map iteration (succeeded or failed) counts its file as done.
 * Rewrites one terminal line (carriage return + erase) and ends it when the Map is over. Returns undefined when
 * the stream is not a terminal, so CI logs and tests stay clean.
 */
export function copyProgress(stream: ProgressStream): ((event: HistoryEvent) => void) | undefined {
  if (!stream.isTTY) return undefined;
  let sizes: number[] = [];
  let totalBytes = 0;
  let files = 0;
  let bytes = 0;
  let open = false;
  const done = new Set<number>();
  const draw = () => {
    stream.write(`\r\x1b[2Kcopying: ${files}/${sizes.length} files, ${formatBytes(bytes)} of ${formatBytes(totalBytes)}`);
    open = true;
  };
  return (event) => {
    if (event.type === 'StateExited' && event.state === 'ListAttachments' && event.index === undefined) {
      const listing = (event.output as { listing?: ListResult } | undefined)?.listing;
      sizes = Array.isArray(listing?.attachments) ? listing.attachments.map((a) => a.size ?? 0) : [];
      totalBytes = sizes.reduce((sum, size) => sum + size, 0);
      files = 0;
      bytes = 0;
      done.clear();
      if (sizes.length) draw();
      return;
    }
    if ((event.type === 'MapIterationSucceeded' || event.type === 'MapIterationFailed') && event.index !== undefined) {
      if (done.has(event.index)) return;
      done.add(event.index);
      files += 1;
      bytes += sizes[event.index] ?? 0;
      draw();
      return;
    }
    if (open && event.index === undefined && (event.type === 'StateExited' || event.type === 'StateFailed') && event.state === 'CopyAttachments') {
      stream.write('\n');
      open = false;
    }
    if (open && (event.type === 'ExecutionFailed' || event.type === 'ExecutionSucceeded')) {
      stream.write('\n');
      open = false;
    }
  };
}

/**
 * One progress line rewritten in place (carriage return + erase), ended with a newline when `end`: for long commands
 * (`backfill status --watch`, `rerun --failed`). Undefined when the stream is not a terminal.
 */
export function progressWriter(stream: ProgressStream): ((line: string, end?: boolean) => void) | undefined {
  if (!stream.isTTY) return undefined;
  return (line, end = false) => {
    stream.write(`\r\x1b[2K${line}${end ? '\n' : ''}`);
  };
}
