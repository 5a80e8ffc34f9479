import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../../console/engine/measure/snapshot.ts';
import { boxOf, CELLS, layoutFor } from '../../console/dashboard/layout.ts';
import {
  errorsPanel,
  eventsPanel,
  generatorPanel,
  healthPercent,
  nowPanel,
  recoveryPanel,
} from '../../console/dashboard/panels.ts';
import { chartLabel, fleetLines, latencyLines, surgeLines } from '../../console/dashboard/series.ts';
import { AttachError, attachStream, isSnapshot, parseAttachUrl } from '../../console/dashboard/stream-client.ts';
import { startMetricsEndpoint } from '../../console/report/metrics-endpoint.ts';
import { eventually } from '../helpers/test-client.ts';
import { useEngines } from '../helpers/engines.ts';

const engines = useEngines();

describe('dashboard series and panels', () => {
  it('folds real snapshots into chart lines, and panels that fit their boxes at 80x24', async () => {
    const engine = await engines.start({ ratePerSec: 5000, snapshotIntervalMs: 200 });
    const history: Snapshot[] = [];
    engine.subscribe((s) => history.push(s));
    await engine.dispatch({ type: 'set-target', count: 20 });
    await eventually(() => engine.live().open === 20, 10_000);
    await engine.dispatch({ type: 'kill', percent: 50, mode: 'reset', victims: 'oldest' });
    await eventually(() => history.length > 0 && history[history.length - 1]!.recovery?.fullMs != null, 10_000);
    const last = history[history.length - 1]!;
    const [open, target] = fleetLines(history);
    expect(open!.y[open!.y.length - 1]).toBe(20);
    expect(target!.y.every((y) => y === 20 || y === 0)).toBe(true);
    expect(open!.x).toHaveLength(open!.y.length);
    expect(open!.x[0]).toMatch(/^\d+:\d\d$/);
    expect(Math.max(...surgeLines(history)[1]!.y)).toBeGreaterThan(0);
    expect(latencyLines(history).map((l) => l.title)).toEqual(['hs', 'rtt', 'fan']);

    const layout = layoutFor(80, 24);
    if (layout.kind !== 'wall') throw new Error('80x24 must draw the wall');
    const inner = (name: keyof typeof CELLS) => ({
      width: layout.boxes[name].width - 2,
      height: layout.boxes[name].height - 2,
    });
    const panels = {
      now: nowPanel(last, inner('now')),
      recovery: recoveryPanel(last, inner('recovery')),
      errors: errorsPanel(last, inner('errors')),
      generator: generatorPanel(last, inner('generator')),
      events: eventsPanel(last, inner('events')),
    };
    for (const [name, text] of Object.entries(panels)) {
      const size = inner(name as keyof typeof CELLS);
      expect(text.lines.length, name).toBeLessThanOrEqual(size.height);
      for (const line of text.lines) expect(line.length, `${name}: ${line}`).toBeLessThanOrEqual(size.width);
    }
    expect(panels.now.lines[0]).toMatch(/^open +20\/20 connect p99 +\d/);
    expect(panels.recovery.lines[1]).toMatch(/^kill 50% reset +10 +\d/);
    expect(panels.errors).toEqual({ lines: ['none'] });
    expect(panels.events.lines.at(-1)).toMatch(/^\d+:\d\d .*kill 50% reset/);
    const percent = healthPercent(last);
    expect(percent).toBeGreaterThanOrEqual(0);
    expect(percent).toBeLessThanOrEqual(100);
    expect(
      generatorPanel({ ...last, health: { ...last.health, isSaturated: true } }, inner('generator')),
    ).toMatchObject({ isAlert: true });
    expect(generatorPanel(last, inner('generator')).lines[2]).toMatch(/^saturated +\d+\/\d+s$/);
    expect(
      generatorPanel({ ...last, isStopped: true, health: { ...last.health, isSaturated: true } }, inner('generator')),
    ).toEqual({
      lines: ['run ended', expect.stringMatching(/^saturated +\d+\/\d+s$/), expect.stringMatching(/^rss +[\d.]+MiB$/)],
    });
    for (const [name, fold] of [
      ['fleet', fleetLines],
      ['latency', latencyLines],
      ['surge', surgeLines],
    ] as const) {
      const label = chartLabel('title', fold(history), boxOf(CELLS[name], 80, 23).width - 4).replace(/\{[^}]*\}/g, '');
      expect(label.length, label).toBeLessThanOrEqual(boxOf(CELLS[name], 80, 23).width - 4);
    }
  });

  it('labels a chart with its title and its series in their colours, and drops the title when it does not fit', () => {
    const lines = [
      { title: 'open', x: [], y: [], color: 'green' },
      { title: 'target', x: [], y: [], color: 'white' },
    ];
    expect(chartLabel('VUs', lines, 40)).toBe(' VUs: {green-fg}open{/green-fg} {white-fg}target{/white-fg} ');
    expect(chartLabel('VUs', lines, 17)).toBe(' {green-fg}open{/green-fg} {white-fg}target{/white-fg} ');
  });
});

describe('dashboard stream client', () => {
  it('attaches to a live endpoint, follows it, and says the stream ended when the endpoint closes', async () => {
    const engine = await engines.start({ snapshotIntervalMs: 200 });
    const endpoint = await startMetricsEndpoint(engine);
    const controller = new AbortController();
    const stream = await attachStream(parseAttachUrl(`${endpoint.url}/metrics`), controller.signal);
    expect(stream.url).toBe(endpoint.url);
    expect(isSnapshot(stream.first)).toBe(true);
    const received: Snapshot[] = [];
    const following = stream.follow((s) => received.push(s));
    await eventually(() => received.length >= 3, 5000);
    expect(received[2]!.seq).toBeGreaterThan(stream.first.seq);
    await endpoint.close();
    expect(await following).toEqual({ kind: 'ended' });
    const again = await attachStream(endpoint.url, controller.signal).catch((error: AttachError) => error);
    expect(again).toBeInstanceOf(AttachError);
    expect(again).toMatchObject({
      code: 'attach.unreachable',
      message: expect.stringContaining('nothing is listening there'),
    });
  });

  it('refuses what is not a sockstorm endpoint, and an address that never answers, with stable codes', async () => {
    const replies: Record<string, (res: http.ServerResponse) => void> = {
      '/404/stream': (res) => res.writeHead(404).end(),
      '/html/stream': (res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>'),
      '/json/stream': (res) => res.writeHead(200, { 'content-type': 'application/x-ndjson' }).end('{"hello":1}\n'),
      '/silent/stream': () => {},
    };
    const server = http.createServer((req, res) => replies[req.url ?? '']?.(res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const attach = (path: string, timeoutMs?: number) =>
      attachStream(`${base}${path}`, new AbortController().signal, timeoutMs).then(
        () => null,
        (e: AttachError) => e,
      );
    try {
      expect(await attach('/404')).toMatchObject({
        code: 'attach.not-sockstorm',
        message: expect.stringContaining('HTTP 404'),
      });
      expect(await attach('/html')).toMatchObject({
        code: 'attach.not-sockstorm',
        message: expect.stringContaining('text/html'),
      });
      expect(await attach('/json')).toMatchObject({
        code: 'attach.not-sockstorm',
        message: expect.stringContaining('other than snapshots'),
      });
      expect(await attach('/silent', 300)).toMatchObject({ code: 'attach.timeout' });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    expect(() => parseAttachUrl('localhost:9464')).toThrow(/needs http:\/\//);
    expect(() => parseAttachUrl('nonsense')).toThrow(AttachError);
    expect(parseAttachUrl('http://127.0.0.1:9464/stream')).toBe('http://127.0.0.1:9464');
  });
});
