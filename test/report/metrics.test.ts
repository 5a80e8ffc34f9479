import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import type { Engine } from '../../console/engine/engine.ts';
import { LatencyHistogram } from '../../console/engine/measure/histogram.ts';
import type { Snapshot } from '../../console/engine/measure/snapshot.ts';
import { startMetricsEndpoint } from '../../console/report/metrics-endpoint.ts';
import {
  cumulativeBuckets,
  HISTOGRAM_NAMES,
  LATENCY_BUCKETS_SECONDS,
  PrometheusExposition,
} from '../../console/report/prometheus.ts';
import { useEngines } from '../helpers/engines.ts';
import { nextSnapshot } from '../helpers/next-snapshot.ts';
import { eventually } from '../helpers/test-client.ts';

// parse-prometheus-text-format (a port of Prometheus's own parser to prom2json's shape) ships no types
interface Sample {
  value?: string;
  labels?: Record<string, string>;
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}
interface Family {
  name: string;
  help: string;
  type: string;
  metrics: Sample[];
}
const parsePrometheus = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => Family[];

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL_VALUE = '"(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
const SAMPLE_LINE = new RegExp(
  `^${NAME}(?:\\{${NAME}=${LABEL_VALUE}(?:,${NAME}=${LABEL_VALUE})*\\})? ` +
    `(?:[-+]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][-+]?\\d+)?|[-+]?Inf|NaN)$`,
);

/**
 * The exposition, parsed, after the checks the parser leaves out: every line is a HELP, a TYPE,
 * a sample or empty (text format 0.0.4), each family has one TYPE and HELP before its samples,
 * and no family is untyped or repeated.
 */
function parseStrict(text: string): Map<string, Family> {
  expect(text.endsWith('\n')).toBe(true);
  const typed = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = new RegExp(`^# (HELP|TYPE) (${NAME}) (.*)$`).exec(line);
    if (meta) {
      if (meta[1] === 'TYPE') {
        expect(['counter', 'gauge', 'histogram']).toContain(meta[3]);
        expect(typed.has(meta[2]!), `a second TYPE for ${meta[2]}`).toBe(false);
        typed.add(meta[2]!);
      }
      continue;
    }
    expect(line, 'a sample line').toMatch(SAMPLE_LINE);
    const name = line.split(/[{ ]/)[0]!;
    expect(
      [...typed].some((family) => name === family || new RegExp(`^${family}_(bucket|sum|count)$`).test(name)),
      `${name} after its TYPE`,
    ).toBe(true);
  }
  const families = new Map<string, Family>();
  for (const family of parsePrometheus(text)) {
    expect(family.type, family.name).not.toBe('UNTYPED');
    expect(family.help, family.name).not.toBe('');
    expect(families.has(family.name), `${family.name} twice`).toBe(false);
    families.set(family.name, family);
  }
  return families;
}

function value(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  const family = families.get(name);
  expect(family, name).toBeDefined();
  const sample = family!.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  expect(sample, `${name} ${JSON.stringify(labels)}`).toBeDefined();
  return Number(sample!.value);
}

/** A histogram's buckets in exposition order (the parser keeps them in an object), checked cumulative. */
function histogram(
  text: string,
  families: Map<string, Family>,
  name: string,
): { bounds: number[]; counts: number[]; count: number; sum: number } {
  expect(families.get(name)?.type).toBe('HISTOGRAM');
  const lines = [...text.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\S+)$`, 'gm'))];
  const bounds = lines.map((m) => (m[1] === '+Inf' ? Infinity : Number(m[1])));
  const counts = lines.map((m) => Number(m[2]));
  const sample = families.get(name)!.metrics[0]!;
  expect(Object.keys(sample.buckets!)).toHaveLength(bounds.length);
  for (let i = 1; i < bounds.length; i++) {
    expect(bounds[i]!, `${name} bounds ascend`).toBeGreaterThan(bounds[i - 1]!);
    expect(counts[i]!, `${name} buckets are cumulative`).toBeGreaterThanOrEqual(counts[i - 1]!);
  }
  expect(bounds[bounds.length - 1]).toBe(Infinity);
  expect(counts[counts.length - 1], `${name} +Inf is the count`).toBe(Number(sample.count));
  return { bounds, counts, count: Number(sample.count), sum: Number(sample.sum) };
}

async function scrape(url: string): Promise<string> {
  const response = await fetch(`${url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return response.text();
}

/** Checks a scrape of a stopped engine against its last snapshot: every count is the engine's. */
async function checkStopped(
  engine: Engine,
  url: string,
): Promise<{ families: Map<string, Family>; last: Snapshot; text: string }> {
  const text = await scrape(url);
  const families = parseStrict(text);
  const last = engine.getSnapshot();
  const t = last.totals;
  expect(value(families, 'sockstorm_connects_total')).toBe(t.connects);
  expect(value(families, 'sockstorm_connect_attempts_total')).toBe(t.attempts);
  const connect = histogram(text, families, 'sockstorm_connect_duration_seconds');
  expect(connect.count).toBe(t.connects);
  expect(connect.count).toBe(last.latency.connect.count);
  expect(connect.sum).toBeCloseTo((last.latency.connect.mean * connect.count) / 1000, 6);
  expect(histogram(text, families, 'sockstorm_rtt_seconds').count).toBe(t.probesReceived);
  expect(histogram(text, families, 'sockstorm_fanout_latency_seconds').count).toBe(t.broadcastsReceived);
  expect(histogram(text, families, 'sockstorm_reconnect_duration_seconds').count).toBe(last.latency.reconnect.count);
  return { families, last, text };
}

describe('cumulativeBuckets', () => {
  it('counts each recorded value under every bound at or above it, with the exact sum in seconds', () => {
    const h = new LatencyHistogram();
    for (const ms of [0.3, 0.5, 0.7, 3, 40_000]) h.record(ms);
    const { buckets, count, sumSeconds } = cumulativeBuckets(h.encode());
    const at = (le: number): number =>
      buckets[LATENCY_BUCKETS_SECONDS.indexOf(le as (typeof LATENCY_BUCKETS_SECONDS)[number])]!;
    expect([at(0.0005), at(0.001), at(0.0025), at(0.005), at(10), at(30)]).toEqual([2, 3, 3, 4, 4, 4]);
    expect(count).toBe(5);
    expect(sumSeconds).toBeCloseTo(40.0045, 9);
    expect(cumulativeBuckets(new LatencyHistogram().encode())).toEqual({
      buckets: LATENCY_BUCKETS_SECONDS.map(() => 0),
      count: 0,
      sumSeconds: 0,
    });
  });
});

const engines = useEngines();

describe('metrics endpoint /metrics', () => {
  it(
    'exposes a real run by Prometheus conventions: _total counters, latencies as second histograms, ' +
      'fleet and health gauges',
    async () => {
      const engine = await engines.start({ snapshotIntervalMs: 200 }, 10);
      const endpoint = await startMetricsEndpoint(engine, '127.0.0.1', 0);
      try {
        await engine.dispatch({ type: 'probe', perSec: 100 });
        await engine.dispatch({ type: 'kill', percent: 30, mode: 'reset', victims: 'oldest' });
        await nextSnapshot(engine, (s) => s.recovery?.fullMs != null);
        await engine.dispatch({ type: 'broadcast', count: 5, sizeBytes: 64 });
        await nextSnapshot(
          engine,
          (s) => s.broadcastsSettled === 5 && s.totals.broadcastsReceived === 50 && s.totals.probesReceived >= 20,
        );
        const live = await scrape(endpoint.url);
        const families = parseStrict(live);
        for (const family of families.values()) {
          expect(family.name, 'counters and only counters end in _total').toMatch(
            family.type === 'COUNTER' ? /_total$/ : /(?<!_total)$/,
          );
        }
        expect(value(families, 'sockstorm_vus', { state: 'open' })).toBe(10);
        expect(value(families, 'sockstorm_target_vus')).toBe(10);
        expect(value(families, 'sockstorm_peak_vus')).toBe(10);
        expect(value(families, 'sockstorm_vus', { state: 'connecting' })).toBe(0);
        expect(value(families, 'sockstorm_killed_total')).toBe(3);
        expect(value(families, 'sockstorm_generator_resident_memory_bytes')).toBeGreaterThan(10 * 1024 * 1024);
        expect(value(families, 'sockstorm_generator_utilization_ratio')).toBeLessThanOrEqual(1);
        expect([0, 1]).toContain(value(families, 'sockstorm_generator_saturated'));
        expect(value(families, 'sockstorm_generator_loop_delay_p99_seconds')).toBeLessThan(1);
        expect(value(families, 'sockstorm_generator_cpu_ratio')).toBeGreaterThanOrEqual(0);
        expect(value(families, 'sockstorm_recovery_full_seconds')).toBeGreaterThan(0);
        expect(value(families, 'sockstorm_broadcast_min_reach_ratio')).toBeLessThanOrEqual(1);
        for (const { name } of Object.values(HISTOGRAM_NAMES)) {
          expect(name).toMatch(/_seconds$/);
          expect(histogram(live, families, name).bounds.slice(0, -1)).toEqual([...LATENCY_BUCKETS_SECONDS]);
        }

        await engine.stop();
        const { families: final, last, text } = await checkStopped(engine, endpoint.url);
        expect(last.totals.killed).toBe(3);
        expect(value(final, 'sockstorm_vus', { state: 'open' })).toBe(0);
        // the percentiles of the run fall in the buckets Prometheus would place them in
        const rtt = histogram(text, final, 'sockstorm_rtt_seconds');
        for (const [share, ms] of [
          [0.5, last.latency.rtt.p50],
          [0.99, last.latency.rtt.p99],
          [1, last.latency.rtt.max],
        ] as const) {
          const first = rtt.bounds.findIndex((bound) => bound >= (ms / 1000) * 1.001);
          expect(rtt.counts[first]!).toBeGreaterThanOrEqual(Math.ceil(share * rtt.count));
        }
      } finally {
        await endpoint.close();
      }
    },
  );

  it('merges the histograms of a sharded engine by counts', async () => {
    const engine = await engines.start({ workers: 2, snapshotIntervalMs: 200 }, 10);
    const endpoint = await startMetricsEndpoint(engine, '127.0.0.1', 0);
    try {
      await engine.dispatch({ type: 'probe', perSec: 100 });
      await eventually(() => engine.getSnapshot().totals.probesReceived >= 20, 10_000);
      await engine.stop();
      const { last } = await checkStopped(engine, endpoint.url);
      expect(last.totals.connects).toBe(10);
    } finally {
      await endpoint.close();
    }
  });

  it('labels errors by class, escaped as the format asks, and leaves unknown figures out rather than 0', async () => {
    const engine = await engines.start({ snapshotIntervalMs: 200 });
    const snapshot = engine.getSnapshot();
    const odd = 'close.4000 "quoted" \\ and\nnewline';
    const text = await new PrometheusExposition().render({
      snapshot: { ...snapshot, errors: { 'tcp.refused': 7, [odd]: 2 } },
      histograms: engine.histograms(),
    });
    const families = parseStrict(text);
    expect(value(families, 'sockstorm_errors_total', { class: 'tcp.refused' })).toBe(7);
    expect(value(families, 'sockstorm_errors_total', { class: odd })).toBe(2);
    for (const name of [
      'sockstorm_recovery_full_seconds',
      'sockstorm_recovery_p95_seconds',
      'sockstorm_broadcast_min_reach_ratio',
    ]) {
      expect(families.get(name)?.metrics ?? [], name).toEqual([]);
    }
  });
});
