// `sockstorm compare`, run as a user would: variants parsed and refused before any socket (104,
// naming the variant); the known answer of the event-loop demo at 2,000 subscribers (the `ws`
// engine's JavaScript loop publishes slower and stalls its loop longer than uWS's C++ publish),
// the report drawn in headless Chromium (Debian's `chromium`) with both curves; and saved
// summaries of different scripts compared with a warning naming the difference.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { CompareDocument } from '../../console/commands/compare.ts';
import { runOrder } from '../../console/compare/run-compare.ts';
import { scriptWarnings } from '../../console/compare/saved-summaries.ts';
import { parseVariant, parseVariants, VariantError } from '../../console/compare/variants.ts';
import type { RunSummary } from '../../console/report/summary.ts';
import { runCli } from '../helpers/run-cli.ts';
import { needBrowser, openInChromium } from '../helpers/chromium.ts';

const OUTPUT = fileURLToPath(new URL('../.output/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sockstorm-compare-'));

const USERS = 2000;
const SCRIPT = `
rate 4000/s
vus ${USERS}
await open ${USERS} timeout 30s
probe 50/s
wait 1s
mark broadcasts
broadcast 4 size 64 every 1s
wait 4s
`;

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function reasonOf(text: string): string {
  try {
    parseVariant(text);
  } catch (error) {
    if (error instanceof VariantError) return error.message;
    throw error;
  }
  return 'parsed';
}

describe('compare variants', () => {
  it('parses NAME:KNOBS into engine, process counts and server knobs read as the script reads them', () => {
    expect(parseVariant('ws-loop:engine=ws,fanout=loop')).toEqual({
      name: 'ws-loop',
      knobs: 'engine=ws,fanout=loop',
      serverEngine: 'ws',
      serverConfig: { fanout: 'loop' },
    });
    expect(parseVariant('busy: engine=uws, workMs=5ms, compression=on, servers=2, workers=3')).toEqual({
      name: 'busy',
      knobs: 'engine=uws,workMs=5ms,compression=on,servers=2,workers=3',
      serverEngine: 'uws',
      servers: 2,
      workers: 3,
      serverConfig: { workMs: 5, compression: true },
    });
    // bare knobs name themselves
    expect(parseVariant('engine=uws').name).toBe('engine=uws');
  });

  it('refuses a bad knob or a malformed variant with a message naming the variant', () => {
    expect(reasonOf('fast:engine=uws,speed=9')).toMatch(
      /^--variant "fast:engine=uws,speed=9": unknown knob "speed"; knobs are engine, servers, workers, workMs/,
    );
    expect(reasonOf('a:fanout=sideways')).toBe(
      '--variant "a:fanout=sideways": fanout must be one of publish, loop, batched',
    );
    expect(reasonOf('a:engine=node')).toBe('--variant "a:engine=node": engine must be uws or ws, not "node"');
    expect(reasonOf('a:workMs')).toBe('--variant "a:workMs": "workMs" has no value: write workMs=VALUE');
    expect(reasonOf('a:workMs=-1')).toMatch(/^--variant "a:workMs=-1": workMs must be/);
    expect(reasonOf('a:workers=0')).toBe('--variant "a:workers=0": workers must be a whole number 1..256, not "0"');
    expect(reasonOf('a:engine=ws,engine=uws')).toBe('--variant "a:engine=ws,engine=uws": "engine" is given twice');
    expect(reasonOf('a:')).toMatch(/^--variant "a:": give its knobs as KNOB=VALUE/);
    expect(reasonOf('bad name:engine=ws')).toMatch(/^--variant "bad name:engine=ws": the name "bad name" must be/);
    expect(() => parseVariants(['a:engine=ws'])).toThrow(/two or more variants/);
    expect(() => parseVariants(['a:engine=ws', 'a:engine=uws'])).toThrow(
      '--variant "a:engine=uws": the name "a" is taken by an earlier variant',
    );
  });

  it('alternates the order from round to round', () => {
    expect(runOrder(3, 3).map((r) => `${r.round}:${r.variant}`)).toEqual([
      '0:0',
      '0:1',
      '0:2',
      '1:2',
      '1:1',
      '1:0',
      '2:0',
      '2:1',
      '2:2',
    ]);
  });

  it('warns, naming the first differing command, when saved summaries come from different scripts', () => {
    const summary = (commands: string[] | null): RunSummary =>
      ({ script: commands ? { sha256: commands.join('|'), commands } : undefined }) as RunSummary;
    expect(
      scriptWarnings([
        { name: 'a', summary: summary(['vus 10', 'wait 1s']) },
        { name: 'b', summary: summary(['vus 10', 'wait 1s']) },
      ]),
    ).toEqual([]);
    expect(
      scriptWarnings([
        { name: 'a', summary: summary(['vus 10', 'wait 1s']) },
        { name: 'b', summary: summary(['vus 12', 'wait 1s', 'stop']) },
      ]),
    ).toEqual([
      'b ran a different script from a: command 1 is "vus 12" in b and "vus 10" in a (2 commands differ in all)',
    ]);
    expect(
      scriptWarnings([
        { name: 'a', summary: summary(['vus 10']) },
        { name: 'old', summary: summary(null) },
      ])[0],
    ).toMatch(/^old has no script record/);
  });

  it('exits 104 before any socket for a bad variant, naming it', async () => {
    const script = file('bad.storm', 'vus 10\nwait 1s\n');
    const { code, stdout, stderr } = await runCli(
      ['compare', script, '--variant', 'ws:engine=ws', '--variant', 'fast:engine=uws,speed=9'],
      {},
      20_000,
    );
    expect(code).toBe(104);
    expect(stderr).toContain('--variant "fast:engine=uws,speed=9": unknown knob "speed"');
    expect(stderr).not.toContain('run 1 of');
    expect(stdout).toBe('');
  });
});

describe('compare', () => {
  it(`shows the known answer at ${USERS} subscribers: the ws loop publishes slower and stalls its loop longer than uWS; the report draws both curves`, async (context) => {
    needBrowser(context, 'the compare report test');
    const script = file('event-loop.storm', SCRIPT);
    const json = join(dir, 'compare.json');
    const report = join(dir, 'compare.html');
    const { code, stdout, stderr } = await runCli(
      [
        'compare',
        script,
        '--variant',
        'ws-loop:engine=ws,fanout=loop',
        '--variant',
        'uws:engine=uws',
        '--json',
        json,
        '--report',
        report,
        '--progress-interval',
        '10s',
      ],
      {},
      45_000,
    );
    expect(code, stderr).toBe(0);
    const doc = JSON.parse(readFileSync(json, 'utf8')) as CompareDocument;
    const [ws, uws] = doc.variants;
    expect(doc.variants.map((v) => v.name)).toEqual(['ws-loop', 'uws']);
    expect(ws!.runs[0]!.server!.engine).toBe('ws');
    expect(ws!.runs[0]!.server!.config.fanout).toBe('loop');
    expect(uws!.runs[0]!.server!.engine).toBe('uws');
    for (const v of doc.variants) {
      const run = v.runs[0]!;
      expect(run.fleet.peakOpen).toBe(USERS);
      expect(v.figures.reach).toBe(1);
      // the whole-run curves come from the engine's histograms, read after it stopped
      expect(run.distributions!.fanout!.map(([p]) => p)).toEqual([50, 75, 90, 95, 99, 99.5, 99.9, 100]);
      expect(run.distributions!.fanout!.at(-1)![1]).toBe(run.latency.fanout.max);
      expect(run.series!.length).toBeGreaterThan(4);
      expect(run.script!.commands[1]).toBe(`vus ${USERS}`);
    }
    // the known answer: a JavaScript loop over 2,000 sockets against uWS's C++ publish
    expect(ws!.figures['server.publishMax']!).toBeGreaterThan(uws!.figures['server.publishMax']! * 3);
    expect(ws!.figures['server.loopMax']!).toBeGreaterThan(uws!.figures['server.loopMax']!);
    expect(stdout).toMatch(/^server publish \(longest\) +\S+ +\S+ ×[\d.]+ \*$/m);
    expect(stdout).toMatch(/^server +ws loop +uws publish$/m);

    const { page, errors, requests } = await openInChromium(report, 'the compare report test');
    mkdirSync(OUTPUT, { recursive: true });
    await page.screenshot({ path: join(OUTPUT, 'compare.png'), fullPage: true });
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    // fan-out, RTT and connect curves, each with both variants; three per-second charts
    expect(await page.$eval('body', (b) => b.dataset.curveCharts)).toBe('3');
    expect(await page.$eval('#curve-fanout', (e) => (e as HTMLElement).dataset.curves)).toBe('2');
    expect(await page.$eval('body', (b) => b.dataset.charts)).toBe('3');
    const legend = await page.$$eval('#curve-fanout .u-legend .u-label', (els) => els.map((e) => e.textContent ?? ''));
    expect(legend.slice(1).map((l) => l.split(' ')[0])).toEqual(['ws-loop', 'uws']);
    expect(await page.$$eval('#chart-server-loop .u-legend .u-label', (els) => els.length)).toBe(3);
    expect(await page.$$eval('.uplot canvas', (els) => els.every((c) => (c as HTMLCanvasElement).width > 300))).toBe(
      true,
    );
    // the best publish time is uWS's column; each run's mark is on the time axes
    expect(
      await page.$$eval('td.best[data-row="server.publishMax"]', (els) =>
        els.map((e) => (e as HTMLTableCellElement).cellIndex),
      ),
    ).toEqual([2]);
    expect(await page.$$eval('ol.markers li', (els) => els.map((e) => e.textContent ?? ''))).toEqual(
      expect.arrayContaining([
        expect.stringContaining('ws-loop: broadcasts'),
        expect.stringContaining('uws: broadcasts'),
      ]),
    );
    expect(await page.$eval('#chart-fanout', (e) => e.querySelector<HTMLElement>('.uplot')?.dataset.markers)).toBe('2');
    await page.close();
  }, 55_000);

  it('compares saved summaries of different scripts, with a warning that names what differs', async () => {
    const a = join(dir, 'before.json');
    const b = join(dir, 'after.json');
    const [ra, rb] = await Promise.all([
      runCli(['run', file('a.storm', 'vus 10\nawait open 10 timeout 10s\nwait 1s\n'), '--json', a], {}, 20_000),
      runCli(
        [
          'run',
          file('b.storm', '# the same, two users more\nvus 12\nawait open 12 timeout 10s\nwait 1s\n'),
          '--json',
          b,
        ],
        {},
        20_000,
      ),
    ]);
    expect([ra.code, rb.code]).toEqual([0, 0]);
    const report = join(dir, 'saved.html');
    const { code, stdout, stderr } = await runCli(['compare', a, b, '--report', report], {}, 20_000);
    expect(code, stderr).toBe(0);
    const warning =
      'after ran a different script from before: command 1 is "vus 12" in after and "vus 10" in before ' +
      '(2 commands differ in all)';
    expect(stderr).toContain(`sockstorm: warning: ${warning}`);
    expect(stdout).toMatch(/^ +before +after$/m);
    expect(stdout).toContain(`warning: ${warning}`);
    expect(readFileSync(report, 'utf8')).toContain('warning: after ran a different script from before');
    // a file that is not a summary is refused, named
    const notSummary = file('notes.json', '{"hello":1}');
    const refused = await runCli(['compare', a, notSummary], {}, 20_000);
    expect(refused.code).toBe(104);
    expect(refused.stderr).toContain(`${notSummary} is not a run summary`);
  }, 30_000);
});
