import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { OutgoingResponse } from '../faults/index.js';

/** What a sandbox handler returns; the server writes it (through the fault layer). */
export type Reply = OutgoingResponse;

export function json(status: number, body: unknown, headers: OutgoingHttpHeaders = {}): Reply {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: Buffer.from(JSON.stringify(body)),
  };
}

/** Thrown by handlers to answer early with an error reply. */
export class HttpError extends Error {
  constructor(readonly reply: Reply) {
    super(`HTTP ${reply.status}`);
  }
}

/** Zendesk's error bodies (several are unconfirmed: see docs/zendesk.md#unconfirmed-behaviour). */
export const zendeskError = {
  notFound: (headers?: OutgoingHttpHeaders) =>
    json(404, { error: 'RecordNotFound', description: 'Not found' }, headers),
  invalidEndpoint: () => json(404, { error: 'InvalidEndpoint', description: 'Not found' }),
  unauthenticated: () => json(401, { error: "Couldn't authenticate you" }),
  forbidden: () =>
    json(403, {
      error: 'Forbidden',
      description: 'You do not have access to this page. Please contact the account owner of this help desk for further help.',
    }),
  badRequest: (description: string) => json(400, { error: 'InvalidValue', description }),
  closedTicket: (headers?: OutgoingHttpHeaders) =>
    json(
      422,
      {
        error: 'RecordInvalid',
        description: 'Record validation errors',
        details: { status: [{ description: 'Status: closed prevents ticket update' }] },
      },
      headers,
    ),
  recordInvalid: (field: string, description: string) =>
    json(422, { error: 'RecordInvalid', description: 'Record validation errors', details: { [field]: [{ description }] } }),
  updateConflict: (headers?: OutgoingHttpHeaders) =>
    json(
      409,
      {
        error: 'UpdateConflict',
        description:
          'Safe Update prevented the update due to outdated ticket data. Please fetch the latest ticket data and try again.',
      },
      headers,
    ),
};

const MAX_BODY_BYTES = 1024 * 1024;

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of req) {
    length += (chunk as Buffer).length;
    if (length > MAX_BODY_BYTES) throw new HttpError(json(413, { error: 'RequestTooLarge', description: 'Body too large' }));
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Parses a JSON or form-encoded body; an empty body is `{}`. */
export function parseBody(raw: Buffer, contentType: string | undefined): Record<string, unknown> {
  const text = raw.toString('utf8').trim();
  if (text === '') return {};
  if (contentType?.includes('application/x-www-form-urlencoded')) {
    return Object.fromEntries(new URLSearchParams(text));
  }
  try {
    const value: unknown = JSON.parse(text);
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new HttpError(json(400, { error: 'InvalidJSON', description: 'The request body is not a JSON object' }));
}

/** `2026-08-17T07:34:48Z`: Zendesk timestamps have whole seconds. */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export function asObject(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
