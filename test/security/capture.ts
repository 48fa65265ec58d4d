/**
 * Instruments for the leak test: what this process writes (stdout, stderr, console), what it sends (fetch), small
 * HTTP servers that record what they receive, and the leak finder that looks for forbidden values in all of it.
 * Captured text is kept in memory and never forwarded: a leak must not reach the CI log either, which is also why
 * leak reports show redacted excerpts only.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatWithOptions } from 'node:util';

/** A named piece of text that leaves the system (a log line, a history file, a notification body...). */
export interface Channel {
  name: string;
  text: string;
}

/** A value that must not appear in a channel. */
export interface Needle {
  /** Says what it is, never the value: `zendesk api token`, `file name (rtl) percent-encoded`. */
  label: string;
  value: string;
}

export interface Leak {
  channel: string;
  label: string;
  /** About 80 characters either side, every needle replaced by ⟦label⟧, as a JSON string (control characters escaped). */
  excerpt: string;
}

const EXCERPT_CHARS = 80;

function replaceAll(text: string, needles: readonly Needle[]): string {
  let out = text;
  // Longest first: a needle that contains another is replaced whole.
  for (const needle of [...needles].sort((a, b) => b.value.length - a.value.length)) {
    if (needle.value) out = out.split(needle.value).join(`⟦${needle.label}⟧`);
  }
  return out;
}

/**
 * The text around [from, to), widened so that no needle occurrence is cut in half (a cut one would escape the
 * redaction), then redacted.
 */
function excerpt(text: string, from: number, to: number, needles: readonly Needle[]): string {
  let start = Math.max(0, from - EXCERPT_CHARS);
  let end = Math.min(text.length, to + EXCERPT_CHARS);
  for (let widened = true; widened; ) {
    widened = false;
    for (const { value } of needles) {
      if (!value) continue;
      for (let at = text.indexOf(value, Math.max(0, start - value.length + 1)); at !== -1 && at < end; at = text.indexOf(value, at + 1)) {
        if (at < start || at + value.length > end) {
          start = Math.min(start, at);
          end = Math.max(end, at + value.length);
          widened = true;
        }
      }
    }
  }
  return JSON.stringify(replaceAll(text.slice(start, end), needles));
}

/** Every (channel, needle) pair where the needle occurs, with a redacted excerpt around the first occurrence. */
export function findLeaks(channels: readonly Channel[], needles: readonly Needle[]): Leak[] {
  const leaks: Leak[] = [];
  for (const channel of channels) {
    for (const needle of needles) {
      const at = needle.value ? channel.text.indexOf(needle.value) : -1;
      if (at === -1) continue;
      leaks.push({ channel: channel.name, label: needle.label, excerpt: excerpt(channel.text, at, at + needle.value.length, needles) });
    }
  }
  return leaks;
}

export function formatLeaks(leaks: readonly Leak[]): string {
  return [
    `${leaks.length} leak(s) found:`,
    ...leaks.map((l) => `  - [${l.channel}] ${l.label}\n      ${l.excerpt}`),
  ].join('\n');
}

/** Throws one error listing every leak (channel, what leaked, redacted excerpt), so a failure reads on its own. */
export function assertNoLeaks(channels: readonly Channel[], needles: readonly Needle[]): void {
  const leaks = findLeaks(channels, needles);
  if (leaks.length > 0) throw new Error(formatLeaks(leaks));
}

// ---- Process output ----

export interface OutputLine {
  stream: string;
  text: string;
}

export interface OutputCapture {
  readonly lines: OutputLine[];
  restore(): void;
}

const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace', 'dir'] as const;

function chunkText(chunk: unknown, encoding: unknown): string {
  if (typeof chunk === 'string') return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk).toString(typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  return String(chunk);
}

/**
 * Replaces process.stdout.write, process.stderr.write and the console methods until restore(). The Powertools
 * Logger writes through a Console bound to process.stdout/stderr, so its lines arrive through write().
 */
export function captureOutput(): OutputCapture {
  const lines: OutputLine[] = [];
  const streams = [
    ['stdout', process.stdout],
    ['stderr', process.stderr],
  ] as const;
  const originalWrites = streams.map(([, stream]) => stream.write);
  for (const [name, stream] of streams) {
    stream.write = ((chunk: unknown, encoding?: unknown, callback?: unknown) => {
      lines.push({ stream: name, text: chunkText(chunk, encoding) });
      const done = typeof encoding === 'function' ? encoding : callback;
      if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
      return true;
    }) as typeof stream.write;
  }
  const originalConsole = CONSOLE_METHODS.map((method) => console[method]);
  for (const method of CONSOLE_METHODS) {
    console[method] = (...args: unknown[]) => {
      lines.push({
        stream: `console.${method}`,
        text: formatWithOptions({ depth: Infinity, maxArrayLength: Infinity, maxStringLength: Infinity, breakLength: Infinity }, ...args),
      });
    };
  }
  return {
    lines,
    restore() {
      streams.forEach(([, stream], i) => {
        stream.write = originalWrites[i]!;
      });
      CONSOLE_METHODS.forEach((method, i) => {
        console[method] = originalConsole[i]!;
      });
    },
  };
}

// ---- Outgoing HTTP (fetch: ky and the notifier use it) ----

export interface OutboundRequest {
  method: string;
  url: string;
  /** Whether an Authorization header (any credential) was sent. */
  authorization: boolean;
  status?: number;
  /** The Location of a redirect answer. */
  location?: string;
}

export interface FetchCapture {
  readonly requests: OutboundRequest[];
  restore(): void;
}

function isRequestLike(input: unknown): input is Request {
  return typeof input === 'object' && input !== null && 'url' in input && 'headers' in input && 'method' in input;
}

/**
 * Wraps globalThis.fetch (ky reads it per request) to log every request and its answer's status and Location.
 * `inspect` reads a clone of the answers it selects, e.g. to learn the OAuth access token Zendesk issued.
 */
export function captureFetch(
  inspect?: { when: (request: OutboundRequest) => boolean; read: (request: OutboundRequest, response: Response) => Promise<void> },
): FetchCapture {
  const original = globalThis.fetch;
  const requests: OutboundRequest[] = [];
  globalThis.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = isRequestLike(input) ? input.url : String(input);
    const method = (init?.method ?? (isRequestLike(input) ? input.method : 'GET')).toUpperCase();
    const headers = new Headers(isRequestLike(input) ? input.headers : undefined);
    new Headers(init?.headers).forEach((value, name) => headers.set(name, value));
    const entry: OutboundRequest = { method, url, authorization: headers.has('authorization') };
    requests.push(entry);
    const response = await original(input, init);
    entry.status = response.status;
    const location = response.headers.get('location');
    if (location) entry.location = location;
    // Only the answers asked for are cloned: a clone of a streamed download would tee (buffer) the whole file.
    if (inspect?.when(entry)) await inspect.read(entry, response.clone());
    return response;
  }) as typeof fetch;
  return {
    requests,
    restore() {
      globalThis.fetch = original;
    },
  };
}

// ---- Recording HTTP servers ----

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface Recorder {
  /** `http://127.0.0.1:PORT` */
  origin: string;
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

/** An HTTP server that records every request and answers with `respond` (default 200 "ok"). */
export async function startRecorder(
  respond: (request: RecordedRequest) => { status: number; headers?: Record<string, string>; body?: Buffer | string } = () => ({ status: 200, body: 'ok' }),
): Promise<Recorder> {
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(recorded);
      const answer = respond(recorded);
      res.writeHead(answer.status, answer.headers ?? {}).end(answer.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
