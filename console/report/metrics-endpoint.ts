/**
 * An optional HTTP endpoint, on loopback by default, for a run or a console session:
 * `GET /metrics` (Prometheus text format, see prometheus.ts), `GET /snapshot` (the latest
 * snapshot as JSON) and `GET /stream` (NDJSON, one snapshot a second, for a wall dashboard in
 * another terminal).
 */
import http from 'node:http';
import type { Engine } from '../engine/engine.ts';
import { PrometheusExposition } from './prometheus.ts';

/** A running endpoint. */
export interface MetricsEndpoint {
  readonly url: string;
  /** Snapshots not sent to a `/stream` reader that did not keep up. */
  readonly droppedSnapshots: number;
  close(): Promise<void>;
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
    }
  });
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method !== 'GET') return void res.writeHead(405).end();
    if (path === '/metrics') {
      exposition.render({ snapshot: engine.getSnapshot(), histograms: engine.histograms() }).then(
        (text) => res.writeHead(200, { 'content-type': exposition.contentType }).end(text),
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
