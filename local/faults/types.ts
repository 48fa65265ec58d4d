/**
 * The vocabulary of injected failures, shared by the sandbox Zendesk (inside its request handler) and the
 * standalone fault proxy (in front of any HTTP server, e.g. the embedded S3).
 */

/**
 * `before` (default): the fault replaces the request, whose effect never happens.
 * `after`: the request is handled (its effect happens), then its response is replaced: "applied, but the
 * client never heard": the case idempotency has to survive.
 */
export type FaultTiming = 'before' | 'after';

export type Fault =
  /** Answer with this status instead (default body: a small JSON error). */
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string | object; when?: FaultTiming }
  /** Destroy the socket without an answer (the client sees ECONNRESET / "other side closed"). */
  | { kind: 'reset'; when?: FaultTiming }
  /** Wait before handling the request. */
  | { kind: 'delay'; ms: number }
  /** Declare the full Content-Length, send only `afterBytes` body bytes, then close the connection. */
  | { kind: 'truncate'; afterBytes: number }
  /** Send the headers (and the first `afterBytes` body bytes, default 0), then stop sending for `ms`. */
  | { kind: 'stall'; ms: number; afterBytes?: number }
  /**
   * Serve a well-formed response whose body is `extraBytes` longer (positive: filler appended) or shorter
   * (negative: the tail dropped) than the original; Content-Length matches the bytes actually sent, so only a
   * client that checks the byte count against the declared size (attachment `size`) notices.
   */
  | { kind: 'lengthMismatch'; extraBytes: number };

export type FaultKind = Fault['kind'];

export interface FaultMatch {
  /** HTTP method, case-insensitive. */
  method?: string;
  /**
   * A string is a route kind: the sandbox's names ('download', 'content', 'redaction', ...) or, for the proxy,
   * whatever its `classify` returns (e.g. s3Operation: 'UploadPart'). A RegExp is tested against the request
   * path, and also against path + query.
   */
  route?: string | RegExp;
  /** How many matching requests to affect (default 1; Infinity for all). */
  times?: number;
  /** Skip the first N matching requests (default 0). */
  after?: number;
}

export interface FaultRule {
  match: FaultMatch;
  fault: Fault;
  /** Optional label, handy in assertions and logs. */
  name?: string;
}

export type FaultPlan = FaultRule[];

/** What a rule is matched against. */
export interface RequestFacts {
  method: string;
  /** Request target as received: path and query. */
  target: string;
  /** Route kind, when the server (or the proxy's classifier) knows one. */
  route?: string;
}
