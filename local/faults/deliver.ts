import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Fault } from './types.js';

export type ResponseBody = Buffer | string | AsyncIterable<Uint8Array>;

/** A response as a handler (or an upstream server) produced it, before any fault shapes it. */
export interface OutgoingResponse {
  status: number;
  headers?: OutgoingHttpHeaders;
  body?: ResponseBody;
}

const FILLER = 0x5a; // 'Z': bytes appended by lengthMismatch

/**
 * Applies the part of a fault that acts before the request is handled.
 * Returns true when the request is finished (answered or dropped) and must not be handled.
 */
export async function applyFaultBefore(fault: Fault | undefined, res: ServerResponse): Promise<boolean> {
  if (!fault) return false;
  switch (fault.kind) {
    case 'delay':
      await sleep(fault.ms);
      return false;
    case 'reset':
      if (fault.when === 'after') return false;
      resetSocket(res);
      return true;
    case 'status':
      if (fault.when === 'after') return false;
      sendSimple(res, faultStatusResponse(fault));
      return true;
    default:
      return false;
  }
}

/**
 * Writes a response, shaped by the fault if it acts on responses (status/reset `after`, truncate, stall,
 * lengthMismatch). Streams the body with backpressure: never buffers it.
 */
export async function deliver(
  req: IncomingMessage,
  res: ServerResponse,
  response: OutgoingResponse,
  fault?: Fault,
): Promise<void> {
  if (res.destroyed) {
    discard(response.body);
    return;
  }
  if (fault && (fault.kind === 'status' || fault.kind === 'reset') && fault.when === 'after') {
    discard(response.body);
    if (fault.kind === 'reset') resetSocket(res);
    else sendSimple(res, faultStatusResponse(fault));
    return;
  }
  const headers = lowerCaseHeaders(response.headers);
  const { status } = response;
  const bodyless = req.method === 'HEAD' || status === 204 || status === 304 || status < 200;
  let body = response.body;
  if (typeof body === 'string') body = Buffer.from(body);
  if (Buffer.isBuffer(body) && headers['content-length'] === undefined && !bodyless) {
    headers['content-length'] = String(body.length);
  }
  if (body === undefined || bodyless) {
    discard(body);
    res.writeHead(status, headers);
    res.end();
    return;
  }
  if (fault?.kind === 'lengthMismatch' && headers['content-length'] !== undefined) {
    const declared = Number(headers['content-length']);
    headers['content-length'] = String(Math.max(0, declared + fault.extraBytes));
  }
  res.writeHead(status, headers);
  await pump(res, Buffer.isBuffer(body) ? [body] : body, fault);
}

/** Sends a small, fully known response (no fault shaping). */
export function sendSimple(res: ServerResponse, response: { status: number; headers?: OutgoingHttpHeaders; body?: Buffer }): void {
  if (res.destroyed || res.headersSent) return;
  const headers = lowerCaseHeaders(response.headers);
  if (response.body) headers['content-length'] = String(response.body.length);
  res.writeHead(response.status, headers);
  res.end(response.body);
}

export function faultStatusResponse(fault: Extract<Fault, { kind: 'status' }>): {
  status: number;
  headers: OutgoingHttpHeaders;
  body: Buffer;
} {
  const raw = fault.body ?? { error: 'InjectedFault', description: `status ${fault.status} injected by the fault layer` };
  const isText = typeof raw === 'string';
  return {
    status: fault.status,
    headers: {
      'content-type': isText ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
      ...lowerCaseHeaders(fault.headers),
    },
    body: Buffer.from(isText ? raw : JSON.stringify(raw)),
  };
}

/** Drops the connection with a TCP RST where the platform allows it. */
export function resetSocket(res: ServerResponse): void {
  const socket = res.socket;
  if (!socket) return;
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}

function lowerCaseHeaders(headers: OutgoingHttpHeaders | Record<string, string> | undefined): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value !== undefined) out[name.toLowerCase()] = value;
  }
  return out;
}

function discard(body: unknown): void {
  if (body === undefined || body === null || typeof body !== 'object' || Buffer.isBuffer(body)) return;
  const stream = body as { destroy?: () => void; [Symbol.asyncIterator]?: () => AsyncIterator<unknown> };
  const iterate = stream[Symbol.asyncIterator];
  if (typeof stream.destroy === 'function') stream.destroy();
  else if (typeof iterate === 'function') void iterate.call(stream).return?.();
}

function write(res: ServerResponse, chunk: Buffer): Promise<void> {
  if (chunk.length === 0 || res.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    if (res.write(chunk)) return resolve();
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Writes `chunk`, waits until it reached the socket, then closes the connection mid-body. */
async function cut(res: ServerResponse, chunk: Buffer): Promise<void> {
  if (!res.headersSent) res.flushHeaders();
  if (chunk.length > 0 && !res.destroyed) await new Promise<void>((resolve) => res.write(chunk, () => resolve()));
  const socket = res.socket;
  if (socket && !socket.destroyed) socket.destroySoon();
}

function sleepUnlessClosed(res: ServerResponse, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(finish, ms);
    function finish(): void {
      clearTimeout(timer);
      res.off('close', finish);
      resolve();
    }
    res.on('close', finish);
  });
}

function toBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

async function pump(res: ServerResponse, source: Iterable<Buffer> | AsyncIterable<Uint8Array>, fault?: Fault): Promise<void> {
  let sent = 0;
  const truncateAt = fault?.kind === 'truncate' ? fault.afterBytes : Infinity;
  let stallAt = fault?.kind === 'stall' ? (fault.afterBytes ?? 0) : -1;
  const stallMs = fault?.kind === 'stall' ? fault.ms : 0;
  const extra = fault?.kind === 'lengthMismatch' ? fault.extraBytes : 0;
  const holdBack = Math.max(0, -extra);
  let tail = Buffer.alloc(0);

  if (stallAt === 0) {
    res.flushHeaders();
    await sleepUnlessClosed(res, stallMs);
    stallAt = -1;
  }
  if (truncateAt === 0) {
    discard(source);
    await cut(res, Buffer.alloc(0));
    return;
  }
  // Breaking out of for-await calls return() on the source, which destroys a Readable.
  for await (const raw of source) {
    if (res.destroyed) return;
    let chunk = toBuffer(raw);
    if (holdBack > 0) {
      const joined = tail.length > 0 ? Buffer.concat([tail, chunk]) : chunk;
      const keep = Math.min(holdBack, joined.length);
      tail = Buffer.from(joined.subarray(joined.length - keep));
      chunk = joined.subarray(0, joined.length - keep);
    }
    if (stallAt > 0 && sent + chunk.length >= stallAt) {
      const head = chunk.subarray(0, stallAt - sent);
      await write(res, head);
      sent += head.length;
      chunk = chunk.subarray(head.length);
      res.flushHeaders();
      await sleepUnlessClosed(res, stallMs);
      stallAt = -1;
      if (res.destroyed) return;
    }
    if (sent + chunk.length >= truncateAt) {
      await cut(res, chunk.subarray(0, truncateAt - sent));
      return;
    }
    await write(res, chunk);
    sent += chunk.length;
  }
  for (let left = extra; left > 0; left -= 65_536) {
    await write(res, Buffer.alloc(Math.min(left, 65_536), FILLER));
  }
  if (!res.destroyed) res.end();
}
