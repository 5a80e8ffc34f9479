// The HTML report, rendered from real runs on loopback and opened in headless Chromium (Debian's
// `chromium` package): no console or page errors, the charts drawn with their units, the saturated
// shade, markers and tables there, the summary whole. A screenshot goes to test/.output/report.png.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'puppeteer-core';
import { describe, expect, it } from 'vitest';
import { needBrowser, openInChromium, type OpenedPage } from '../helpers/chromium.ts';
import { renderReport } from '../../console/report/html-report.ts';
import { reportData } from '../../console/report/report-series.ts';
import type { RunSummary } from '../../console/report/summary.ts';
import { formatSummary } from '../../console/report/summary-text.ts';
import type { Snapshot } from '../../console/engine/measure/snapshot.ts';
import { parseScript } from '../../console/script/parse.ts';
import { runScript } from '../../console/script/runner.ts';

const OUTPUT = fileURLToPath(new URL('../.output/', import.meta.url));
const INJECTED = '</script><script>window.injected = 1</script>';

const SCRIPT = `
add 50
await open 50 timeout 10s
probe 20/s
mark steady ${INJECTED}
broadcast 3 every 1s
wait 2s
stall 1200ms
kill 20% reset
await recovered timeout 10s
wait 2s
expect rtt.p99 < 5s
expect connect.p99 < 0.001ms
`;

async function open(html: string, name: string): Promise<OpenedPage> {
  mkdirSync(OUTPUT, { recursive: true });
  const file = join(OUTPUT, `${name}.html`);
  writeFileSync(file, html);
  return openInChromium(file, 'the report test');
}

async function run(text: string): Promise<{ summary: RunSummary; snapshots: Snapshot[] }> {
  const outcome = await runScript(parseScript(text), { engineOptions: { serverEngine: 'uws' } });
  return { summary: outcome.summary, snapshots: outcome.snapshots };
}

const texts = (page: Page, selector: string): Promise<string[]> =>
  page.$$eval(selector, (els) => els.map((e) => e.textContent ?? ''));

describe('html-report', () => {
  it('draws a real run with uPlot: charts with units, the saturated shade, markers, tables and the whole summary', async (context) => {
    needBrowser(context, 'the HTML report tests'); // first: without a browser the test is skipped at once, saying what to install
    const { summary, snapshots } = await run(SCRIPT);
    const data = reportData(summary, snapshots);
    const { page, errors, requests } = await open(renderReport(summary, snapshots), 'report');
    await page.screenshot({ path: join(OUTPUT, 'report.png'), fullPage: true });

    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    expect(await page.evaluate(() => (window as { injected?: number }).injected)).toBeUndefined();
    expect(await page.$eval('h1.verdict', (e) => e.textContent)).toBe(summary.verdict.toUpperCase());

    // fleet, latency, rates, generator, memory and the bundled server: six uPlot roots, each with its canvas
    expect(await page.$$eval('.uplot', (els) => els.length)).toBe(6);
    expect(await page.$eval('body', (e) => e.dataset.charts)).toBe('6');
    const canvases = await page.$$eval('.uplot canvas', (els) => els.map((c) => (c as HTMLCanvasElement).width));
    expect(canvases).toHaveLength(6);
    expect(canvases.every((w) => w > 300)).toBe(true);
    expect(await texts(page, '.uplot .u-title')).toEqual([
      'Fleet',
      'Latency p99, per second',
      'Handshakes and drops per second',
      'Generator health',
      'Memory (RSS)',
      'Bundled server',
    ]);
    const legend = (await texts(page, '.u-legend .u-label')).join(' | ');
    for (const label of [
      'open (users)',
      'connect p99 (ms)',
      'RTT p99 (ms)',
      'fan-out p99 (ms)',
      'handshakes (per second)',
      'drops (per second)',
      'loop delay p99 (ms)',
      'CPU (%)',
      'generator RSS (MiB)',
      'server loop delay p99 (ms)',
    ]) {
      expect(legend).toContain(label);
    }
    expect(legend).not.toContain('reconnect');
    // the cursor over one chart fills the legends (synced across charts) with the figures under it
    await page.hover('#chart-latency .u-over');
    const values = await page.$$eval('#chart-latency .u-legend .u-value', (els) => els.map((e) => e.textContent ?? ''));
    expect(values[0]).toMatch(/^\d+(\.\d+)? s$/);
    expect(values.slice(1).every((v) => v === '—' || / ms$/.test(v))).toBe(true);
    expect(await page.$eval('#chart-fleet .u-legend .u-value', (e) => e.textContent)).toMatch(/ s$/);

    // the teardown second is not plotted; the stall (60 ms busy slices for 1.2 s: more than half of
    // some second, whichever way it falls) made at least one saturated second, shaded on every chart
    const plotted = snapshots.filter((s) => !s.isStopped);
    expect(snapshots.at(-1)!.isStopped).toBe(true);
    expect(data.times).toEqual(plotted.map((s) => s.elapsedMs / 1000));
    expect(summary.saturated.intervals).toBeGreaterThan(0);
    expect(data.bands.length).toBeGreaterThan(0);
    expect(await page.$eval('.key', (e) => e.textContent)).toContain('shaded: a saturated second');
    expect(await page.$$eval('.uplot', (els) => els.map((e) => (e as HTMLElement).dataset.shadedBands))).toEqual(
      Array(6).fill(String(data.bands.length)),
    );

    // the broadcasts table says who each was owed to and how many the tool cut, beside its reach
    expect(await texts(page, 'th')).toEqual(
      expect.arrayContaining(['owed (ready at send)', 'receivers', 'cut', 'reach']),
    );
    // markers: the mark, the kill and each of the three broadcasts (1 s apart), in time order
    expect(data.markers.map((m) => m.kind).sort()).toEqual(['broadcast', 'broadcast', 'broadcast', 'chaos', 'mark']);
    expect(await page.$$eval('ol.markers li', (els) => els.length)).toBe(5);
    expect((await texts(page, 'ol.markers li')).join('\n')).toContain(`steady ${INJECTED}`);
    expect(await page.$$eval('.uplot', (els) => els.map((e) => (e as HTMLElement).dataset.markers))).toEqual(
      Array(6).fill('5'),
    );

    // the summary is all there, wrapped rather than cut; each threshold coloured by its status
    expect(await page.$eval('pre.summary', (e) => e.textContent)).toBe(formatSummary(summary));
    const pre = await page.$eval('pre.summary', (e) => ({
      scroll: e.scrollWidth,
      client: e.clientWidth,
      wrap: getComputedStyle(e).whiteSpace,
    }));
    expect(pre.wrap).toBe('pre-wrap');
    expect(pre.scroll).toBeLessThanOrEqual(pre.client);
    const statuses = await page.$$eval('td.status', (els) => els.map((e) => e.className));
    expect(statuses).toEqual(summary.thresholds.map((r) => `status ${r.status ?? (r.passed ? 'passed' : 'failed')}`));
    expect(
      await page.$$eval('pre.summary span.failed, pre.summary span.inconclusive', (els) => els.length),
    ).toBeGreaterThan(0);

    // the recovery and the three settled broadcasts as tables
    expect(summary.recoveries).toHaveLength(1);
    const recoveryRows = await texts(page, 'h2 + table tbody tr');
    expect(recoveryRows.some((r) => r.includes('kill 20% reset'))).toBe(true);
    const seqs = await page.$$eval('table', (tables) => {
      const last = tables[tables.length - 1]!;
      return [...last.querySelectorAll('tbody tr td:nth-child(2)')].map((td) => td.textContent);
    });
    expect(seqs).toEqual(summary.broadcasts.last.map((b) => String(b.seq)));
    expect(seqs).toEqual(['1', '2', '3']);
    await page.close();
  }, 60_000);

  it('renders a one-second run with no latency, without server stats, and with no snapshots at all, without page errors', async (context) => {
    needBrowser(context, 'the HTML report tests');
    const { summary, snapshots } = await run('add 0\nwait 1s\n');
    expect(snapshots.every((s) => s.latency.connect.count === 0 && s.latency.rtt.count === 0)).toBe(true);
    const { page, errors } = await open(renderReport(summary, snapshots), 'report-empty');
    expect(errors).toEqual([]);
    const data = reportData(summary, snapshots);
    expect(data.times.length).toBeGreaterThan(0);
    // no latency series measured a second: the latency chart is a sentence, the others are drawn
    expect(data.charts.find((c) => c.id === 'latency')!.series).toEqual([]);
    expect(await page.$$eval('.uplot', (els) => els.length)).toBe(
      data.charts.filter((c) => c.series.length > 0).length,
    );
    expect((await texts(page, '.chart .empty')).join(' ')).toContain(
      'No connect, RTT or fan-out latency was measured in any second.',
    );
    expect(await texts(page, 'p.empty')).toEqual(
      expect.arrayContaining(['No chaos action or outage in this run.', 'No broadcast settled in this run.']),
    );
    await page.close();

    // a target without /stats: no server chart
    const unbundled = snapshots.map((s) => ({ ...s, server: null }));
    const noServer = await open(renderReport({ ...summary, server: null }, unbundled), 'report-no-server');
    expect(noServer.errors).toEqual([]);
    expect(await texts(noServer.page, '.uplot .u-title')).not.toContain('Bundled server');
    await noServer.page.close();

    const none = await open(renderReport(summary, []), 'report-none');
    expect(none.errors).toEqual([]);
    expect(await none.page.$$eval('.uplot', (els) => els.length)).toBe(0);
    expect(await texts(none.page, 'p.empty')).toContain(
      'No measured second to plot: the run ended within its first second.',
    );
    await none.page.close();
  }, 60_000);
});
