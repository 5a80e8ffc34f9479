/**
 * An optional HTTP endpoint, on loopback by default, for a run or a console session:
 * `GET /metrics` (Prometheus text format), `GET /snapshot` (the latest snapshot as JSON) and
 * `GET /stream` (NDJSON, one snapshot a second, for a wall dashboard in another terminal).
 */
import http from 'node:http';
import type { Engine } from '../engine/engine.ts';
import type { Snapshot } from '../engine/snapshot.ts';

function metric(lines: string[], name: string, help: string, type: 'gauge' | 'counter', samples: Array<[labels: string, value: number]>): void {
  lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  for (const [labels, value] of samples) lines.push(`${name}${labels ? `{${labels}}` : ''} ${Number.isFinite(value) ? value : 0}`);
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

/** The snapshot in Prometheus text exposition format. */
export function toPrometheus(s: Snapshot): string {
  const lines: string[] = [];
  const f = s.fleet;
  const t = s.totals;
  metric(lines, 'sockstorm_vus', 'Virtual users by state.', 'gauge',
    (['open', 'connecting', 'waiting', 'pending', 'closing', 'closed'] as const).map((state) => [`state="${state}"`, f[state]]));
  metric(lines, 'sockstorm_target_vus', 'The fleet target.', 'gauge', [['', f.target]]);
  const counters: Array<[string, string, number]> = [
    ['sockstorm_connect_attempts_total', 'Handshakes started.', t.attempts],
    ['sockstorm_connects_total', 'Handshakes that opened.', t.connects],
    ['sockstorm_connect_failures_total', 'Handshakes that failed.', t.failures],
    ['sockstorm_disconnects_total', 'Open connections that ended (chaos or unexpected).', t.disconnects],
    ['sockstorm_killed_total', 'Connections cut by chaos.', t.killed],
    ['sockstorm_messages_received_total', 'Frames received.', t.messagesIn],
    ['sockstorm_messages_sent_total', 'Frames sent.', t.messagesOut],
    ['sockstorm_received_bytes_total', 'Bytes received.', t.bytesIn],
    ['sockstorm_sent_bytes_total', 'Bytes sent.', t.bytesOut],
    ['sockstorm_missed_seq_total', 'Fan-out seqs a user never received.', t.missed],
    ['sockstorm_saturated_seconds_total', 'Seconds the generator itself was saturated.', s.saturatedIntervals],
  ];
  for (const [name, help, value] of counters) metric(lines, name, help, 'counter', [['', value]]);
  metric(lines, 'sockstorm_errors_total', 'Failures by stable error class.', 'counter', Object.entries(s.errors).map(([c, n]) => [`class="${escapeLabel(c)}"`, n]));
  const latency: Array<[string, number]> = [];
  for (const [kind, summary] of Object.entries(s.latency)) {
    if (summary.count === 0) continue;
    for (const [quantile, value] of [['0.5', summary.p50], ['0.9', summary.p90], ['0.99', summary.p99], ['1', summary.max]] as const) {
      latency.push([`kind="${kind}",quantile="${quantile}"`, value]);
    }
  }
  metric(lines, 'sockstorm_latency_ms', 'Whole-run latency percentiles in milliseconds.', 'gauge', latency);
  const h = s.health;
  metric(lines, 'sockstorm_generator_loop_delay_p99_ms', "The generator's event-loop delay p99 over the last second.", 'gauge', [['', h.loopDelayP99Ms]]);
  metric(lines, 'sockstorm_generator_utilization', "The generator's event-loop utilisation over the last second.", 'gauge', [['', h.utilization]]);
  metric(lines, 'sockstorm_generator_cpu_percent', "The generator's CPU over the last second.", 'gauge', [['', h.cpuPercent]]);
  metric(lines, 'sockstorm_generator_rss_bytes', "The generator's resident memory.", 'gauge', [['', h.rssBytes]]);
  metric(lines, 'sockstorm_generator_saturated', '1 when the last second was saturated.', 'gauge', [['', h.isSaturated ? 1 : 0]]);
  if (s.recovery?.fullMs != null) metric(lines, 'sockstorm_recovery_full_ms', 'ms from the last chaos action to the whole target open.', 'gauge', [['', s.recovery.fullMs]]);
  if (s.broadcastsSettled > 0) metric(lines, 'sockstorm_broadcast_min_reach_ratio', 'Lowest reach over settled broadcasts.', 'gauge', [['', s.minReach]]);
  return `${lines.join('\n')}\n`;
}

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
    if (path === '/metrics') return void res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(toPrometheus(engine.getSnapshot()));
    if (path === '/snapshot') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(engine.getSnapshot()));
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
        get droppedSnapshots() { return droppedSnapshots; },
        close: () => new Promise<void>((done) => {
          unsubscribe();
          for (const res of streams) res.end();
          server.close(() => done());
          server.closeAllConnections();
        }),
      });
    });
  });
}
