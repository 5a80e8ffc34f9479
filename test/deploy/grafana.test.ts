/**
 * The Grafana dashboard shipped with the manifests (console/deploy/kubernetes/grafana): valid
 * JSON Grafana imports, every query on the datasource variable, and every metric it names one
 * that `/metrics` exposes (a renamed metric would leave a panel empty without a word).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../console/engine/measure/histogram.ts';
import { LATENCY_NAMES } from '../../console/engine/measure/metrics.ts';
import { PrometheusExposition } from '../../console/report/prometheus.ts';
import { fixtureSnapshot } from '../ui/fixtures.ts';

/** The uid every query names: Grafana's datasource variable. */
const DATASOURCE = '$' + '{datasource}';
const FILE = fileURLToPath(
  new URL('../../console/deploy/kubernetes/grafana/sockstorm-dashboard.json', import.meta.url),
);

interface Panel {
  title: string;
  datasource: { uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets: Array<{ expr: string; datasource: { uid: string } }>;
}

describe('the Grafana dashboard', () => {
  it("queries only metrics that /metrics exposes, on the dashboard's datasource variable", async () => {
    const dashboard = JSON.parse(readFileSync(FILE, 'utf8')) as {
      uid: string;
      panels: Panel[];
      templating: { list: Array<{ name: string; type: string }> };
    };
    expect(dashboard.uid).toBe('sockstorm');
    expect(dashboard.templating.list).toContainEqual(
      expect.objectContaining({ name: 'datasource', type: 'datasource' }),
    );
    const empty = new LatencyHistogram().encode();
    const text = await new PrometheusExposition().render({
      snapshot: { ...fixtureSnapshot(), errors: { 'tcp.refused': 1 } },
      histograms: Object.fromEntries(LATENCY_NAMES.map((name) => [name, empty])) as never,
    });
    const exposed = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
    const named = new Set<string>();
    expect(dashboard.panels.length).toBeGreaterThanOrEqual(8);
    for (const panel of dashboard.panels) {
      expect(panel.datasource.uid, panel.title).toBe(DATASOURCE);
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
      for (const target of panel.targets) {
        expect(target.datasource.uid, panel.title).toBe(DATASOURCE);
        for (const [name] of target.expr.matchAll(/sockstorm_[a-z0-9_]+/g))
          named.add(name.replace(/_(bucket|sum|count)$/, ''));
      }
    }
    for (const name of named) expect(exposed, name).toContain(name);
    // the figures a run is judged on are all there
    for (const name of [
      'sockstorm_vus',
      'sockstorm_connect_duration_seconds',
      'sockstorm_rtt_seconds',
      'sockstorm_fanout_latency_seconds',
      'sockstorm_errors_total',
      'sockstorm_generator_saturated',
    ])
      expect(named, name).toContain(name);
  });
});
