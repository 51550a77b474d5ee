/**
 * The harness every emulator shares: loopback HTTP(S) servers, failpoints and request counters.
 * @module
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

/** What a failpoint does to the next matching request(s). */
export type FaultKind =
  /** Answer with the service's throttling error. */
  | 'throttle'
  /** Answer with a server error (HTTP 500/503, or gRPC UNAVAILABLE/INTERNAL). */
  | 'server-error'
  /** Wait `delayMs` before handling the request normally. */
  | 'delay'
  /** Destroy the connection without answering. */
  | 'drop'
  /** Accept the request and never answer, keeping the connection open (a black-holed endpoint). */
  | 'blackhole'
  /** Answer normally but corrupt an integrity field of the response (emulator-specific, e.g. CRC32C). */
  | 'corrupt-response';

/** A failpoint: applies to the next `count` requests (of `operation`, when given). */
export interface Fault {
  readonly kind: FaultKind;
  /** How many requests it applies to. Default 1. */
  readonly count?: number;
  /** Only requests of this operation name (as counted in {@link RequestCounters}). */
  readonly operation?: string;
  /** For `delay`. Default 100 ms. */
  readonly delayMs?: number;
  /** For `server-error`: the HTTP status (default 500) or gRPC status code. */
  readonly status?: number;
}

/** Failpoints controllable from tests. */
export class FaultInjector {
  readonly #pending: { fault: Fault; remaining: number }[] = [];

  /** Arm a failpoint. */
  inject(fault: Fault): void {
    this.#pending.push({ fault, remaining: fault.count ?? 1 });
  }

  /** Remove every armed failpoint. */
  clear(): void {
    this.#pending.length = 0;
  }

  /** Consume and return the failpoint that applies to this request, if any. */
  take(operation: string): Fault | undefined {
    const i = this.#pending.findIndex((p) => p.fault.operation === undefined || p.fault.operation === operation);
    if (i < 0) return undefined;
    const p = this.#pending[i]!;
    p.remaining -= 1;
    if (p.remaining <= 0) this.#pending.splice(i, 1);
    return p.fault;
  }

  /** How many failpoint activations are still armed. */
  get armed(): number {
    return this.#pending.reduce((n, p) => n + p.remaining, 0);
  }
}

/** Per-operation request counters. */
export class RequestCounters {
  readonly #counts = new Map<string, number>();

  /** Count one request of `operation`. */
  increment(operation: string): void {
    this.#counts.set(operation, (this.#counts.get(operation) ?? 0) + 1);
  }

  /** Requests of `operation` so far. */
  get(operation: string): number {
    return this.#counts.get(operation) ?? 0;
  }

  /** All requests so far. */
  total(): number {
    let n = 0;
    for (const v of this.#counts.values()) n += v;
    return n;
  }

  /** A copy of every counter. */
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.#counts);
  }

  /** Set every counter back to zero. */
  reset(): void {
    this.#counts.clear();
  }
}

/** TLS material for an HTTPS emulator. */
export interface TlsOptions {
  readonly key: string | Buffer;
  readonly cert: string | Buffer;
}

/** The committed test-only certificate (for 127.0.0.1, ::1, localhost). Never use it outside tests. */
export function testTlsFixture(): { key: string; cert: string } {
  const dir = new URL('../fixtures/', import.meta.url);
  return {
    key: readFileSync(new URL('test-only-tls.key.pem', dir), 'utf8'),
    cert: readFileSync(new URL('test-only-tls.cert.pem', dir), 'utf8'),
  };
}

/** Options every emulator accepts. */
export interface EmulatorOptions {
  /** Port to listen on. Default 0 (any free port). */
  readonly port?: number;
  /** Address to listen on; only loopback is allowed. Default `127.0.0.1`. */
  readonly host?: string;
  /** Serve HTTPS with this material (or `true` for {@link testTlsFixture}). */
  readonly tls?: TlsOptions | boolean;
}

/** What every running emulator exposes. */
export interface EmulatorHandle {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  readonly port: number;
  /** Per-operation request counters. */
  readonly counters: RequestCounters;
  /** Failpoints. */
  readonly faults: FaultInjector;
  /** Stop listening and drop every open connection. */
  close(): Promise<void>;
}

/**
 * A loopback HTTP(S) server that tracks its sockets so `close()` never hangs.
 * @internal Not part of the public API (exported for this repository's own code and tests).
 */
export interface LoopbackHttpServer {
  readonly url: string;
  readonly port: number;
  readonly server: http.Server | https.Server;
  close(): Promise<void>;
}

/**
 * Only loopback addresses may be listened on: emulators are never reachable from elsewhere.
 * @internal Not part of the public API (exported for this repository's own code and tests).
 */
export function assertLoopbackHost(host: string): string {
  if (host === '127.0.0.1' || host === '::1' || host === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(host)) return host;
  throw new Error(`emulators listen on loopback only, not on ${host}`);
}

/**
 * Start an HTTP(S) server on loopback.
 * @internal Not part of the public API (exported for this repository's own code and tests).
 */
export async function startLoopbackHttpServer(
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => void,
  options: EmulatorOptions = {},
): Promise<LoopbackHttpServer> {
  const host = assertLoopbackHost(options.host ?? '127.0.0.1');
  const tls = options.tls === true ? testTlsFixture() : options.tls || undefined;
  const server = tls ? https.createServer({ key: tls.key, cert: tls.cert }, handler) : http.createServer(handler);
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `${tls ? 'https' : 'http'}://${urlHost}:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * Read a request body, refusing more than `limit` bytes.
 * @internal Not part of the public API (exported for this repository's own code and tests).
 */
export async function readBody(req: http.IncomingMessage, limit = 1 << 20): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Sleep helper for `delay` failpoints.
 * @internal Not part of the public API (exported for this repository's own code and tests).
 */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
