import http from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { applyFaultBefore, deliver, sendSimple } from './deliver.js';
import { FaultLayer } from './layer.js';
import type { FaultKind, FaultPlan } from './types.js';

export interface FaultProxyOptions {
  /** Origin of the server behind the proxy, e.g. http://127.0.0.1:9000. */
  target: string;
  port?: number;
  host?: string;
  faults?: FaultPlan;
  /** Names a request's route kind, so string `match.route` rules apply (e.g. s3Operation). */
  classify?: (req: IncomingMessage) => string | undefined;
  /**
   * Send the target's host:port as Host. Off by default: the client's Host is forwarded unchanged, because
   * SigV4 signs it and the server behind may check the signature.
   */
  rewriteHost?: boolean;
  /** Sees each request as it arrives, before any fault, with its log entry (whose status is set once answered). */
  observe?: (req: IncomingMessage, entry: ProxiedRequest) => void;
  /** Rewrites the target's response headers before they are sent (to add what an emulator leaves out). */
  responseHeaders?: (req: IncomingMessage, status: number, headers: OutgoingHttpHeaders) => OutgoingHttpHeaders;
}

export interface ProxiedRequest {
  method: string;
  /** Path and query as received. */
  target: string;
  route?: string;
  /** Status sent to the client; 0 when none was (reset, or the connection failed first). */
  status: number;
  fault?: FaultKind;
}

export interface FaultProxy {
  /** Origin to point clients at instead of the target. */
  url: string;
  faults: FaultLayer;
  /** Every request that went through, in arrival order. */
  requests: ProxiedRequest[];
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  // This side already answered 100-continue; the upstream must not wait for it again.
  'expect',
]);

function endToEnd(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

/** What forwarding a request needs: the proxy's options, target, fault layer, upstream agent and request log. */
interface ProxyState {
  readonly options: FaultProxyOptions;
  readonly target: URL;
  readonly faults: FaultLayer;
  readonly agent: http.Agent;
  readonly requests: ProxiedRequest[];
}

/** Logs the request; its status is the one sent to the client, known when the response closes. */
function logRequest(state: ProxyState, req: IncomingMessage, res: ServerResponse): ProxiedRequest {
  const route = state.options.classify?.(req);
  const entry: ProxiedRequest = { method: req.method ?? 'GET', target: req.url ?? '/', status: 0 };
  if (route !== undefined) entry.route = route;
  state.requests.push(entry);
  state.options.observe?.(req, entry);
  res.on('close', () => {
    entry.status = res.headersSent ? res.statusCode : 0;
  });
  return entry;
}

/** Streams the request to the target; undefined when the target could not be reached (the client got a 502). */
async function sendUpstream(state: ProxyState, req: IncomingMessage, res: ServerResponse): Promise<IncomingMessage | undefined> {
  const { options, target, agent } = state;
  const headers = endToEnd(req.headers);
  if (options.rewriteHost) headers.host = target.host;
  const upstream = http.request({
    protocol: target.protocol,
    hostname: target.hostname,
    port: target.port,
    method: req.method,
    path: req.url,
    headers,
    agent,
  });
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  req.pipe(upstream);
  try {
    return await new Promise<IncomingMessage>((resolve, reject) => {
      upstream.once('response', resolve);
      upstream.once('error', reject);
    });
  } catch (error) {
    sendSimple(res, {
      status: 502,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: Buffer.from(JSON.stringify({ error: 'BadGateway', description: String((error as Error).message) })),
    });
    return undefined;
  }
}

async function forward(state: ProxyState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const entry = logRequest(state, req, res);
  const hit = state.faults.take({ method: entry.method, target: entry.target, route: entry.route });
  if (hit) entry.fault = hit.fault.kind;
  if (await applyFaultBefore(hit?.fault, res)) {
    req.resume();
    return;
  }

  const upstreamResponse = await sendUpstream(state, req, res);
  if (!upstreamResponse) return;
  const status = upstreamResponse.statusCode ?? 502;
  const headers = endToEnd(upstreamResponse.headers);
  await deliver(req, res, { status, headers: state.options.responseHeaders?.(req, status, headers) ?? headers, body: upstreamResponse }, hit?.fault);
}

/**
 * A reverse proxy that streams requests and responses through unchanged (no buffering) except where a fault rule
 * fires. Put it in front of any HTTP server, e.g. the embedded S3 with `classify: (req) => s3Operation(req)`.
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  if (target.protocol !== 'http:') throw new Error('startFaultProxy: only http:// targets are supported');
  const faults = new FaultLayer(options.faults);
  const agent = new http.Agent({ keepAlive: true });
  const requests: ProxiedRequest[] = [];
  const state: ProxyState = { options, target, faults, agent, requests };

  const server = http.createServer((req, res) => {
    forward(state, req, res).catch(() => {
      if (!res.headersSent) sendSimple(res, { status: 502 });
      else res.destroy();
    });
  });
  server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    faults,
    requests,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      agent.destroy();
    },
  };
}
