import type { FaultKind } from '../faults/index.js';
import { ROUTE_KINDS, type RouteKind } from './context.js';

/** The sandbox's request log and per-route counts (requestCounts(), resetCounts(), requests). */

export interface SandboxRequest {
  seq: number;
  at: string;
  role: 'api' | 'content';
  method: string;
  /** Path and query with tokens masked (`/attachments/token/{token}/`, no `token=`, no `name=`). */
  path: string;
  kind: RouteKind;
  /** Status sent; 0 when none was (reset). */
  status: number;
  /** Whether the request carried an Authorization header. */
  authorization: boolean;
  fault?: FaultKind;
}

function zeroCounts(): Record<RouteKind, number> {
  return Object.fromEntries(ROUTE_KINDS.map((k) => [k, 0])) as Record<RouteKind, number>;
}

export class RequestLog {
  requests: SandboxRequest[] = [];
  counts = zeroCounts();
  #seq = 0;

  /** Counts the request by kind and logs it with the next sequence number; the caller fills in status and fault. */
  record(entry: Omit<SandboxRequest, 'seq'>): SandboxRequest {
    this.counts[entry.kind] += 1;
    const logged: SandboxRequest = { seq: ++this.#seq, ...entry };
    this.requests.push(logged);
    return logged;
  }

  /** Zeroes the counts and empties the log (sequence numbers keep counting). */
  reset(): void {
    this.counts = zeroCounts();
    this.requests = [];
  }
}

/** The request path for logs: download tokens masked, `token=` and `name=` (a file name: PII) dropped. */
export function safePath(url: URL): string {
  const path = url.pathname.replace(/^\/attachments\/token\/[^/]+/, '/attachments/token/{token}');
  const params = new URLSearchParams(url.searchParams);
  params.delete('token');
  params.delete('name');
  const query = params.toString();
  return query ? `${path}?${query}` : path;
}
