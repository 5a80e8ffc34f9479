/**
 * An optional HTTP endpoint, on loopback by default, for a run or a console session:
 * `GET /metrics` (Prometheus text format, see prometheus.ts), `GET /snapshot` (the latest
 * snapshot as JSON) and `GET /stream` (NDJSON, one snapshot a second, for a wall dashboard in
 * another terminal). It answers a request only when its Host names the endpoint's own address
 * (421 otherwise), so a web page whose DNS name was rebound to it reads nothing.
 */
import http from 'node:http';
import { isIP } from 'node:net';
import type { Engine } from '../engine/engine.ts';
import { PrometheusExposition } from './prometheus.ts';

/** A running endpoint. */
export interface MetricsEndpoint {
  readonly url: string;
  /** Snapshots not sent to a `/stream` reader that did not keep up. */
  readonly droppedSnapshots: number;
  /** Resolves after the next `/metrics` scrape is answered, after `timeoutMs`, or when `signal` aborts: the linger after a run. */
  nextScrape(timeoutMs: number, signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/** Whether `host` is a loopback address or name. */
export const isLoopbackHost = (host: string): boolean =>
  host === 'localhost' || host === '::1' || host.startsWith('127.');

/**
 * Where the endpoint serves, in few enough words that the console's event log shows it whole at
 * 80 columns (a wall dashboard attaches to the URL before /metrics).
 */
export const endpointPlace = (endpoint: MetricsEndpoint): string =>
  `metrics at ${endpoint.url}/metrics (and /snapshot, /stream)`;

/** Who else reads the endpoint on `host`, when it is not on loopback; null on loopback. */
export const endpointExposure = (host: string): string | null =>
  isLoopbackHost(host) ? null : `on ${host}: anyone who reaches this host reads the run's figures`;

/** The line that says where the endpoint serves, and who else can read it when it is not on loopback. */
export function announceEndpoint(endpoint: MetricsEndpoint, host: string): string {
  const exposure = endpointExposure(host);
  return `metrics at ${endpoint.url}/metrics, snapshots at ${endpoint.url}/stream${exposure ? ` (${exposure})` : ''}`;
}

/** Whether `host` (of a Host header, without its port) is one this endpoint answers: its own address, or a name it was given. */
export function isOwnHost(host: string, bound: string): boolean {
  const name = host.replace(/^\[|\]$/g, '').toLowerCase();
  const own = bound.replace(/^\[|\]$/g, '').toLowerCase();
  if (name === own) return true;
  // bound to every address: any address of this host is its own, a name never (a rebound DNS name is how a page reaches it)
  if (own === '0.0.0.0' || own === '::') return isIP(name) !== 0;
  return isLoopbackHost(own) && isLoopbackHost(name);
}

/** Bytes queued for one `/stream` reader beyond which its next snapshots are dropped, not queued. */
export const STREAM_BUFFER_BYTES = 1024 * 1024;

/** Serves the engine's snapshots on host:port (0 picks a free port). */
export function startMetricsEndpoint(engine: Engine, host = '127.0.0.1', port = 0): Promise<MetricsEndpoint> {
  const exposition = new PrometheusExposition();
  const streams = new Set<http.ServerResponse>();
  let droppedSnapshots = 0;
  const unsubscribe = engine.subscribe((snapshot) => {
    if (streams.size === 0) return;
    const line = `${JSON.stringify(snapshot)}\n`;
    for (const res of streams) {
      // a reader that does not read gets gaps, not our memory
      if (res.writableLength > STREAM_BUFFER_BYTES) droppedSnapshots++;
      else res.write(line);
      // the run's last snapshot ends the stream: a linger serves /metrics, not a stream that says nothing more
      if (snapshot.isStopped) res.end();
    }
  });
  const scraped = new Set<() => void>();
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method !== 'GET') return void res.writeHead(405).end();
    // a page whose DNS name was rebound to this address sends its own name: not answered (no DNS rebinding)
    const hostHeader = /^(\[[^\]]*\]|[^:]*)(?::\d+)?$/.exec(req.headers.host ?? '')?.[1] ?? '';
    if (!isOwnHost(hostHeader, host))
      return void res.writeHead(421, { 'content-type': 'text/plain' }).end(`this endpoint answers ${host} only\n`);
    if (path === '/metrics') {
      exposition.render({ snapshot: engine.getSnapshot(), histograms: engine.histograms() }).then(
        (text) => {
          res.writeHead(200, { 'content-type': exposition.contentType }).end(text);
          for (const done of scraped) done();
        },
        (error: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${error.message}\n`),
      );
      return;
    }
    if (path === '/snapshot')
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(engine.getSnapshot()));
    if (path === '/stream') {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write(`${JSON.stringify(engine.getSnapshot())}\n`);
      streams.add(res);
      res.on('close', () => streams.delete(res));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('routes: /metrics /snapshot /stream\n');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address() as { port: number };
      resolve({
        url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
        get droppedSnapshots() {
          return droppedSnapshots;
        },
        nextScrape: (timeoutMs, signal) =>
          new Promise<void>((done) => {
            const finish = (): void => {
              clearTimeout(timer);
              scraped.delete(finish);
              signal?.removeEventListener('abort', finish);
              done();
            };
            const timer = setTimeout(finish, timeoutMs);
            scraped.add(finish);
            if (signal?.aborted) finish();
            else signal?.addEventListener('abort', finish, { once: true });
          }),
        close: () =>
          new Promise<void>((done) => {
            unsubscribe();
            for (const res of streams) res.end();
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
