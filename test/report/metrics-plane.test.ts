// Issue 22, item 7: metrics a cluster can use. /metrics was bound to 127.0.0.1 with no way to
// choose, gone the moment the run ended (the last scrape was lost), answered any Host (a page
// whose DNS name was rebound to it could read it), and nothing pushed. Real runs on loopback; the
// OTLP receiver is an HTTP server the test starts.
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isOwnHost } from '../../console/report/metrics-endpoint.ts';
import { metricsUrl, otlpHeaders } from '../../console/report/otlp-push.ts';
import { LATENCY_BUCKETS_SECONDS } from '../../console/report/prometheus.ts';
import { startCli, waitForOutput } from '../helpers/run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'sockstorm-metrics-plane-'));

/** GET `path` of 127.0.0.1:`port` with the Host header `host`. */
function get(port: number, path: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path, headers: { host } }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
  });
}

interface OtlpMetric {
  name: string;
  unit: string;
  sum?: { isMonotonic: boolean; aggregationTemporality: number; dataPoints: Array<{ asDouble: number }> };
  gauge?: {
    dataPoints: Array<{ asDouble: number; attributes: Array<{ key: string; value: { stringValue: string } }> }>;
  };
  histogram?: { dataPoints: Array<{ count: string; sum: number; bucketCounts: string[]; explicitBounds: number[] }> };
}

interface OtlpRequest {
  resourceMetrics: Array<{ resource: { attributes: unknown[] }; scopeMetrics: Array<{ metrics: OtlpMetric[] }> }>;
}

describe('the metrics of a run, for a cluster', () => {
  it('pushes OTLP while it runs and at the end, then serves the final figures to one more scrape, answering only its own Host', async () => {
    const pushes: Array<{ headers: http.IncomingHttpHeaders; path: string; body: OtlpRequest }> = [];
    const receiver = http.createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      request.on('end', () => {
        pushes.push({ headers: request.headers, path: request.url ?? '', body: JSON.parse(body) });
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const otlp = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    const file = join(dir, 'run.storm');
    writeFileSync(file, 'vus 5\nawait open 5 timeout 20s\nwait 1s\n');
    const run = startCli(['run', file, '--metrics-port', '0', '--metrics-linger', '30', '--otlp', otlp], {
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20abc',
    });
    const port = Number(
      /metrics at http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(
        await waitForOutput(run.stderr, /metrics at http:\/\/127\.0\.0\.1:\d+\/metrics/),
      )![1],
    );
    // a name the endpoint was not given (DNS rebinding) is not answered; its own address and localhost are
    expect((await get(port, '/metrics', `evil.example:${port}`)).status).toBe(421);
    expect((await get(port, '/snapshot', `localhost:${port}`)).status).toBe(200);
    // the run has ended: its summary is out, and the endpoint waits for a scrape
    await waitForOutput(run.stderr, 'serves the final figures until its next scrape', 20_000);
    expect(run.stdout()).toMatch(/^sockstorm run: PASSED/m);
    const endedAt = Date.now();
    const scrape = await get(port, '/metrics', `127.0.0.1:${port}`);
    expect(scrape.status).toBe(200);
    expect(scrape.body).toMatch(/^sockstorm_connects_total 5$/m);
    expect(scrape.body).toMatch(/^sockstorm_vus\{state="open"\} 0$/m);
    expect((await run.exit).code).toBe(0);
    // gone after that scrape, not after the 30 s linger
    expect(Date.now() - endedAt).toBeLessThan(5000);
    receiver.close();

    // the final push carries the run's final figures
    expect(pushes.length).toBeGreaterThanOrEqual(1);
    const last = pushes[pushes.length - 1]!;
    expect(last.path).toBe('/v1/metrics');
    expect(last.headers['content-type']).toBe('application/json');
    expect(last.headers.authorization).toBe('Bearer abc');
    const resource = last.body.resourceMetrics[0]!.resource.attributes;
    expect(resource).toContainEqual({ key: 'service.name', value: { stringValue: 'sockstorm' } });
    const metrics = new Map<string, OtlpMetric>(
      last.body.resourceMetrics[0]!.scopeMetrics[0]!.metrics.map((m) => [m.name, m]),
    );
    const connects = metrics.get('sockstorm_connects')!;
    expect(connects.sum).toMatchObject({ isMonotonic: true, aggregationTemporality: 2 });
    expect(connects.sum!.dataPoints[0]!.asDouble).toBe(5);
    const open = metrics
      .get('sockstorm_vus')!
      .gauge!.dataPoints.find((p) => p.attributes.some((a) => a.key === 'state' && a.value.stringValue === 'open'));
    expect(open!.asDouble).toBe(0);
    const connect = metrics.get('sockstorm_connect_duration_seconds')!;
    expect(connect.unit).toBe('s');
    const point = connect.histogram!.dataPoints[0]!;
    expect(point.count).toBe('5');
    expect(point.explicitBounds).toEqual([...LATENCY_BUCKETS_SECONDS]);
    expect(point.bucketCounts.length).toBe(LATENCY_BUCKETS_SECONDS.length + 1);
    expect(point.bucketCounts.reduce((sum, n) => sum + Number(n), 0)).toBe(5);
    expect(point.sum).toBeGreaterThan(0);
  }, 45_000);

  it('listens where --metrics-host says, and says so on stderr when that is not loopback', async () => {
    const file = join(dir, 'wide.storm');
    writeFileSync(file, 'vus 1\nwait 1s\n');
    const run = startCli(['run', file, '--metrics-port', '0', '--metrics-host', '0.0.0.0', '--metrics-linger', '0']);
    const stderr = await waitForOutput(run.stderr, /metrics at http:\/\/0\.0\.0\.0:\d+\/metrics/);
    expect(stderr).toContain("(on 0.0.0.0: anyone who reaches this host reads the run's figures)");
    const port = Number(/0\.0\.0\.0:(\d+)/.exec(stderr)![1]);
    expect((await get(port, '/snapshot', `127.0.0.1:${port}`)).status).toBe(200);
    expect((await get(port, '/snapshot', `rebound.example:${port}`)).status).toBe(421);
    // --metrics-linger 0: no wait after the run
    expect((await run.exit).code).toBe(0);
    expect(run.stderr()).not.toContain('serves the final figures');
  }, 30_000);

  it('answers the Host it was given: its address, loopback names on loopback, any address when bound to all, never another name', () => {
    expect(isOwnHost('127.0.0.1', '127.0.0.1')).toBe(true);
    expect(isOwnHost('localhost', '127.0.0.1')).toBe(true);
    expect(isOwnHost('attacker.example', '127.0.0.1')).toBe(false);
    expect(isOwnHost('10.1.2.3', '0.0.0.0')).toBe(true);
    expect(isOwnHost('[::1]', '::')).toBe(true);
    expect(isOwnHost('pod.cluster.local', '0.0.0.0')).toBe(false);
    expect(isOwnHost('metrics.example', 'metrics.example')).toBe(true);
    expect(isOwnHost('10.1.2.3', '10.1.2.4')).toBe(false);
    expect(metricsUrl('http://collector:4318')).toBe('http://collector:4318/v1/metrics');
    expect(metricsUrl('http://collector:4318/otlp/v1/metrics')).toBe('http://collector:4318/otlp/v1/metrics');
    expect(otlpHeaders({ OTEL_EXPORTER_OTLP_HEADERS: 'a=1, b=two%3D2' })).toEqual({ a: '1', b: 'two=2' });
  });
});
