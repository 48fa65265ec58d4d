import type { Fault, FaultChooser, RequestFacts } from '../local/faults/index.js';
import { draws } from './random.js';

/**
 * The soak's faults, drawn per request from the seed at `rate` (the chance that a request meets one), each kind
 * counted when it is injected. A request's fault is a pure function of (seed, layer, the request's identity, how many
 * times that identity was seen before): replaying a seed gives the same request the same fault, however concurrent
 * runs interleave. The identity leaves out what changes between attempts of the same request (tokens, upload IDs).
 */

export type FaultCounts = Record<string, number>;

type Choice = { kind: string; fault: Fault };

const s3Error = (status: number, code: string, when?: 'before' | 'after'): Fault => ({
  kind: 'status',
  ...(when ? { when } : {}),
  status,
  headers: { 'content-type': 'application/xml' },
  body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>injected ${code}</Message><RequestId>SOAK</RequestId></Error>`,
});

/** A 429 as Zendesk sends it: mostly a short Retry-After (waited in the step), sometimes a long one (a workflow Wait). */
function tooMany(u: number): Fault {
  const seconds = u < 0.8 ? 1 : 30 + Math.floor(u * 60);
  return { kind: 'status', status: 429, headers: { 'retry-after': String(seconds) }, body: { error: 'APIRateLimitExceeded', description: 'injected by the soak' } };
}

const slow = (u: number): Fault => ({ kind: 'delay', ms: 100 + Math.floor(u * 900) });

/** Zendesk's per-ticket update limit as it answers when another actor spent the ticket's budget (its 429 and header). */
function ticketUpdateLimit(u: number): Fault {
  const resets = 60 + Math.floor(u * 540);
  return {
    kind: 'status',
    status: 429,
    headers: { 'retry-after': String(resets), 'zendesk-ratelimit-per-ticket-updates': `total=30; remaining=0; resets=${resets}` },
    body: { error: 'TooManyRequests', description: 'Too many updates to this ticket. Wait before updating it again.' },
  };
}

/** What Zendesk may do to a request of this route kind (the sandbox's kinds, local/sandbox/README.md). */
function zendeskChoices(facts: RequestFacts, u: number): Choice[] {
  const common: Choice[] = [
    { kind: 'zendesk.500', fault: { kind: 'status', status: 500 } },
    { kind: 'zendesk.503', fault: { kind: 'status', status: 503 } },
    { kind: 'zendesk.reset', fault: { kind: 'reset' } },
    { kind: 'zendesk.slow', fault: slow(u) },
  ];
  switch (facts.route) {
    case 'content':
      return [
        ...common,
        { kind: 'zendesk.truncated', fault: { kind: 'truncate', afterBytes: Math.floor(u * 48 * 1024) } },
        { kind: 'zendesk.stalled', fault: { kind: 'stall', ms: 500 + Math.floor(u * 3500), afterBytes: Math.floor(u * 32 * 1024) } },
      ];
    case 'redaction': {
      const commentId = /comment_redactions\/(\d+)/.exec(facts.target)?.[1];
      return [
        ...common,
        { kind: 'zendesk.429', fault: tooMany(u) },
        { kind: 'zendesk.ticketUpdateLimit', fault: ticketUpdateLimit(u) },
        // Applied, but the answer is lost: the retry must not redact again.
        { kind: 'zendesk.resetAfterApplied', fault: { kind: 'reset', when: 'after' } },
        // Answered 200 but not done: only the confirm pass can tell.
        ...(commentId ? [{ kind: 'zendesk.redactionIgnored', fault: { kind: 'status', status: 200, body: { comment: { id: Number(commentId), attachments: [] } } } as Fault }] : []),
      ];
    }
    case 'ticket.update':
    case 'tags.write':
      return [
        ...common,
        { kind: 'zendesk.429', fault: tooMany(u) },
        { kind: 'zendesk.ticketUpdateLimit', fault: ticketUpdateLimit(u) },
        { kind: 'zendesk.resetAfterApplied', fault: { kind: 'reset', when: 'after' } },
      ];
    case 'download':
      return [...common, { kind: 'zendesk.429', fault: tooMany(u) }];
    default:
      return [...common, { kind: 'zendesk.429', fault: tooMany(u) }, { kind: 'zendesk.truncated', fault: { kind: 'truncate', afterBytes: Math.floor(u * 200) } }];
  }
}

const S3_OBJECT_OPERATIONS = new Set(['PutObject', 'UploadPart', 'CreateMultipartUpload', 'CompleteMultipartUpload', 'GetObject', 'HeadObject', 'ListObjectsV2', 'GetObjectAttributes']);

function s3Choices(facts: RequestFacts, u: number): Choice[] {
  if (!facts.route || !S3_OBJECT_OPERATIONS.has(facts.route)) return [];
  if (facts.route === 'CompleteMultipartUpload') {
    return [
      { kind: 's3.completeMultipartFailed', fault: s3Error(500, 'InternalError') },
      // S3 assembled the object, the client heard an error: the retry finds it (or uploads again).
      { kind: 's3.completeMultipartFailedAfter', fault: s3Error(500, 'InternalError', 'after') },
      { kind: 's3.503', fault: s3Error(503, 'SlowDown') },
    ];
  }
  return [
    { kind: 's3.500', fault: s3Error(500, 'InternalError') },
    { kind: 's3.503', fault: s3Error(503, 'SlowDown') },
    { kind: 's3.slow', fault: { kind: 'delay', ms: 100 + Math.floor(u * 1400) } },
    { kind: 's3.reset', fault: { kind: 'reset' } },
  ];
}

function notifyChoices(): Choice[] {
  return [
    { kind: 'notify.down503', fault: { kind: 'status', status: 503 } },
    { kind: 'notify.downReset', fault: { kind: 'reset' } },
  ];
}

/** A request's identity: method, route kind and path without query; download tokens masked. */
function identity(facts: RequestFacts): string {
  const path = (facts.target.split('?', 1)[0] ?? '').replace(/\/attachments\/token\/[^/]+/, '/attachments/token/-');
  const part = /[?&]partNumber=(\d+)/.exec(facts.target)?.[1];
  return `${facts.method} ${facts.route ?? ''} ${path}${part ? ` part ${part}` : ''}`;
}

export interface SoakFaults {
  zendesk: FaultChooser;
  s3: FaultChooser;
  notify: FaultChooser;
  /** Faults injected so far, by kind. */
  counts: FaultCounts;
}

export function soakFaults(seed: number, rate: number): SoakFaults {
  const counts: FaultCounts = {};
  const seen = new Map<string, number>();
  const chooser =
    (layer: string, choices: (facts: RequestFacts, u: number) => Choice[]): FaultChooser =>
    (facts) => {
      const id = `${layer} ${identity(facts)}`;
      const n = (seen.get(id) ?? 0) + 1;
      seen.set(id, n);
      const [fire, which, shape] = draws(seed, id, n) as [number, number, number];
      if (fire >= rate) return undefined;
      const options = choices(facts, shape);
      if (options.length === 0) return undefined;
      const choice = options[Math.floor(which * options.length)]!;
      counts[choice.kind] = (counts[choice.kind] ?? 0) + 1;
      return choice.fault;
    };
  return { zendesk: chooser('zendesk', zendeskChoices), s3: chooser('s3', s3Choices), notify: chooser('notify', notifyChoices), counts };
}
