import { afterEach, describe, expect, it } from 'vitest';
import type { Snapshot } from '../../console/engine/measure/snapshot.ts';
import { ConsoleSession } from '../../console/script/console-session.ts';
import { App } from '../../console/ui/app.tsx';
import { hintLine } from '../../console/ui/keymap.ts';
import { renderInTerminal, type FakeTerminal } from './fake-terminal.ts';
import { FixtureEngine, fixtureServerStats, fixtureSnapshot } from './fixtures.ts';

let terminal: FakeTerminal | null = null;
afterEach(() => {
  terminal?.unmount();
  terminal = null;
});

const tick = (ms = 30) => new Promise((resolve) => setTimeout(resolve, ms));

async function show(snapshot: Snapshot, columns = 80, rows = 24, engine = new FixtureEngine(snapshot)) {
  terminal = renderInTerminal(
    <App engine={engine} session={new ConsoleSession(engine)} onQuit={() => {}} />,
    columns,
    rows,
  );
  await tick();
  return { terminal, engine };
}

const FRAME_80X24 = [
  'sockstorm ws://127.0.0.1:56523/ (bundled uws)  18.0s',
  '┌────────────────────────┐┌─────────────────────────────┐┌─────────────────────┐',
  '│ Fleet                  ││ Latency   p50    p99 p99 1s ││ Throughput /s       │',
  '│ open 1000/1000         ││ conn    2.9ms 35.5ms      — ││ open 0 drop 0       │',
  '│ conn 0 wait 0          ││ rtt    0.90ms 15.2ms  5.4ms ││ handshakes 0        │',
  '│ peak 1000 █            ││ fanout 24.5ms 38.2ms      — ││ msg in 100 4.3KiB   │',
  '│ expo 100ms..5.00s full ││ recon  57.0ms  117ms      — ││ kill 200 miss 0     │',
  '└────────────────────────┘└─────────────────────────────┘└─────────────────────┘',
  '┌──────────────────────┐┌────────────────────────┐┌────────────────────────────┐',
  '│ Errors 0             ││ Recovery               ││ Server uws publish         │',
  '│ none                 ││ kill 20% reset -200    ││ conn 1000 out 1916 bp 0    │',
  '│                      ││ 95% 812ms  100% 2.45s  ││ loop p99 0.80ms cpu 2.0%   │',
  '│                      ││ peak 200 hs/s          ││ rss 78.6MiB pub 0.40ms     │',
  '│                      ││ 200 tries 0 failed     ││                            │',
  '└──────────────────────┘└────────────────────────┘└────────────────────────────┘',
  ' Broadcast  #1  reach 99.5% of 1000  p50 24.5ms  p99 38.2ms  last 40.1ms',
  ' Generator  loop p99 72.4ms  util 0.97  cpu 99.0%  saturated 3/18s   SATURATED',
  ' 0:04 RTT probes 100/s',
  ' 0:06 broadcast 1 × 16 B to "all" via admin (seq 1..1), 1000 open',
  ' 0:09 kill 20% reset: dropped 200 of 1000 open (random); reconnect expo 100ms..…',
  ' 0:15 generator saturated: loop p99 72ms',
  '',
  '+- 100  */ 1000  b broadcast  k kill 20%  r reconnect  : command  ? help  q quit',
];

describe('console App at 80x24 (fixture snapshots)', () => {
  it('draws the whole frame within 80 columns and 23 rows', async () => {
    const { terminal } = await show(fixtureSnapshot());
    expect(terminal.lines()).toEqual(FRAME_80X24);
    for (const line of terminal.lines()) expect(line.length).toBeLessThanOrEqual(80);
  });

  it('keeps the saturated count, the SATURATED flag, the 95%/100% times, the whole broadcast line and the footer', async () => {
    const frame = (await show(fixtureSnapshot())).terminal.lastFrame();
    expect(frame).toContain('saturated 3/18s');
    expect(frame).toContain(' SATURATED');
    expect(frame).toContain('95% 812ms  100% 2.45s');
    expect(frame).toContain('Broadcast  #1  reach 99.5% of 1000  p50 24.5ms  p99 38.2ms  last 40.1ms\n');
    expect(frame.endsWith(hintLine())).toBe(true);
    expect(hintLine().length).toBeLessThanOrEqual(80);
  });

  it('keeps the 95%/100% times and the broadcast line at 120 columns too', async () => {
    const frame = (await show(fixtureSnapshot(), 120, 40)).terminal.lastFrame();
    expect(frame).toContain('95% 812ms  100% 2.45s');
    expect(frame).toContain(
      'Broadcast  #1  to all  reach 99.5% of 1000  p50 24.5ms  p99 38.2ms  last 40.1ms  min reach 99.5%',
    );
    expect(frame).toContain('rss 178MiB  32.7KiB/VU  saturated 3/18s   SATURATED');
  });

  it('marks the server figures stale when /stats fails, and says how to measure RTT', async () => {
    const base = fixtureSnapshot();
    const snapshot = fixtureSnapshot({
      serverError: 'fetch failed',
      fleet: { ...base.fleet, probePerSec: 0 },
      latency: { ...base.latency, rtt: { count: 0, p50: 0, p90: 0, p99: 0, max: 0, mean: 0 } },
    });
    const lines = (await show(snapshot)).terminal.lines();
    expect(lines[4]).toContain('│ rtt    — (:probe 100/s)     │');
    expect(lines[10]).toContain('│ conn 1000 out 1916 bp 0    │');
    expect(lines[13]).toContain('│ stale: fetch failed        │');
  });

  it('names the engine and the fan-out in force, and the work per message, and follows a live change', async () => {
    const base = fixtureServerStats();
    const { terminal, engine } = await show(fixtureSnapshot());
    expect(terminal.lines()[9]).toContain('│ Server uws publish         │');
    expect(terminal.lines()[13]).toContain('│                            │');
    engine.publish(fixtureSnapshot({ server: { ...base, config: { ...base.config, fanout: 'loop', workMs: 5 } } }));
    await tick();
    expect(terminal.lines()[9]).toContain('│ Server uws loop            │');
    expect(terminal.lines()[13]).toContain('│ work 5.0ms                 │');
    // ws has no native publish: its publish is the JS loop, and the panel says so
    const ws = { ...base, engine: 'ws' as const, native: false };
    engine.publish(
      fixtureSnapshot({ server: { ...ws, config: { ...ws.config, compression: true, rejectPercent: 10 } } }),
    );
    await tick();
    expect(terminal.lines()[9]).toContain('│ Server ws publish=loop     │');
    expect(terminal.lines()[13]).toContain('│ deflate reject 10.0%       │');
    engine.publish(fixtureSnapshot({ server: { ...ws, config: { ...ws.config, fanout: 'batched' } } }));
    await tick();
    expect(terminal.lines()[9]).toContain('│ Server ws batched          │');
  });

  it('shortens, never cuts, the figures of a big run at 80x24', async () => {
    const base = fixtureSnapshot();
    const server = fixtureServerStats();
    const big = fixtureSnapshot({
      fleet: {
        ...base.fleet,
        target: 9_000_000,
        open: 8_765_432,
        peakOpen: 9_876_543,
        connecting: 500,
        waiting: 76_543,
        pending: 12_345,
        closed: 4321,
        slowed: 999,
      },
      rates: {
        ...base.rates,
        connectsPerSec: 23_456,
        disconnectsPerSec: 12_345,
        attemptsPerSec: 34_567,
        messagesInPerSec: 987_654,
        bytesInPerSec: 987_654_321,
      },
      totals: { ...base.totals, killed: 123_456, missed: 654_321 },
      server: {
        ...server,
        connections: 99_999,
        messagesOut: 12_345_678,
        backpressureDrops: 54_321,
        cpu: { userPercent: 120.25, systemPercent: 30.25 },
        rssBytes: 1.5 * 1024 ** 3,
        publishMsLast: 12.3,
      },
      recovery: {
        ...base.recovery!,
        dropped: 1_753_086,
        peakHandshakesPerSec: 45_678,
        attempts: 2_345_678,
        failures: 123_456,
      },
    });
    const lines = (await show(big)).terminal.lines();
    // the panels' rows: nothing ends in the ellipsis of a cut (the errors' class names may be cut, their counts come first)
    for (const line of lines.slice(1, 15))
      for (const cell of line.split('│').filter((c) => c.trim() !== '')) expect(cell, line).not.toContain('…');
    const frame = lines.join('\n');
    for (const figure of [
      'open 8765432/9000000',
      '│ peak 9.9M █            │',
      '│ conn 500 wait 77k      │',
      'open 23k drop 12k',
      'handshakes 35k',
      'msg in 988k 942MiB',
      'kill 123k miss 654k',
    ]) {
      expect(frame).toContain(figure);
    }
    for (const figure of [
      'conn 100k out 12M bp 54k',
      'loop p99 0.80ms cpu 150.5%',
      'rss 1.5GiB pub 12.3ms',
      'kill 20% reset -1.8M',
      'peak 46k hs/s',
      '2.3M tries 123k failed',
    ]) {
      expect(frame).toContain(figure);
    }
  });

  it('captions the sparkline of open users with their peak, which the engine kept between snapshots', async () => {
    const base = fixtureSnapshot();
    // 100 users opened and were removed within a second: no snapshot saw them open
    const gone = fixtureSnapshot({ fleet: { ...base.fleet, target: 0, open: 0, peakOpen: 100 } });
    const lines = (await show(gone)).terminal.lines();
    expect(lines[3]).toMatch(/^│ open 0\/0 +│/);
    expect(lines[5]).toMatch(/^│ peak 100 ▁ +│/);
  });

  it('names the native engine too where the server panel has the room', async () => {
    const lines = (await show(fixtureSnapshot(), 120, 40)).terminal.lines();
    expect(lines[9]).toContain('│ Server uws (native) publish            │');
  });

  it('says the recovery is still open and that no broadcast was sent', async () => {
    const base = fixtureSnapshot();
    const snapshot = fixtureSnapshot({
      broadcasts: [],
      minReach: 1,
      recovery: { ...base.recovery!, p95Ms: 640, fullMs: null },
    });
    const frame = (await show(snapshot)).terminal.lastFrame();
    expect(frame).toContain('95% 640ms  100% —');
    expect(frame).toContain(' Broadcast  none yet (b sends one)\n');
  });

  it('says the terminal is too small below 80x24, and draws again once it is resized', async () => {
    const { terminal } = await show(fixtureSnapshot(), 79, 24);
    expect(terminal.lines()).toEqual(['terminal too small: 79x24, needs 80x24', 'q quits']);
    terminal.resize(100, 20);
    await tick();
    expect(terminal.lines()[0]).toBe('terminal too small: 100x20, needs 80x24');
    terminal.resize(80, 24);
    await tick();
    expect(terminal.lines()).toEqual(FRAME_80X24);
  });

  it('shows every key of the keymap on the help screen', async () => {
    const { terminal } = await show(fixtureSnapshot());
    terminal.write('?');
    await tick();
    const frame = terminal.lastFrame();
    for (const key of ['+ / -', '* / /', 'b ', 'k ', 'r ', ': ', '? ', 'q ']) expect(frame).toContain(`│ ${key}`);
    expect(frame).toContain('cycle reconnect: off, immediate, fixed 1s, expo 100ms..5s full');
    expect(terminal.lines().length).toBeLessThan(24);
  });
});

describe('console App keys (fixture engine)', () => {
  it('cycles r from the policy it set, not from the once-a-second snapshot, for two presses in quick succession', async () => {
    // the fixture's snapshot never changes: it says expo all along
    const { terminal, engine } = await show(fixtureSnapshot());
    terminal.write('r');
    await tick(5);
    terminal.write('r');
    await tick();
    terminal.write('rr');
    await tick();
    expect(engine.commands).toEqual([
      { type: 'reconnect', policy: { kind: 'off' } },
      { type: 'reconnect', policy: { kind: 'immediate' } },
      { type: 'reconnect', policy: { kind: 'fixed', delayMs: 1000 } },
      { type: 'reconnect', policy: { kind: 'expo', minMs: 100, maxMs: 5000, jitter: 'full' } },
    ]);
  });

  it('says cancelled when the kill question is answered with anything but y', async () => {
    const { terminal, engine } = await show(fixtureSnapshot());
    terminal.write('k');
    await tick();
    expect(terminal.lastFrame()).toContain('Kill 20% of 1000 open VUs (reset, no close frame)? y/n');
    terminal.write('n');
    await tick();
    expect(terminal.lines()[21]).toBe('cancelled: kill 20% reset');
    terminal.write('k');
    await tick();
    terminal.write('x');
    await tick();
    expect(terminal.lines()[21]).toBe('cancelled: kill 20% reset');
    expect(engine.commands).toEqual([]);
  });

  it('removes nothing at 0 users, and no more than the target above it', async () => {
    const base = fixtureSnapshot();
    const empty = fixtureSnapshot({ fleet: { ...base.fleet, target: 0, open: 0 } });
    const { terminal, engine } = await show(empty);
    terminal.write('/');
    await tick();
    expect(terminal.lines()[21]).toBe('nothing to remove: the target is 0 VUs');
    expect(engine.commands).toEqual([]);
    engine.publish(fixtureSnapshot({ fleet: { ...base.fleet, target: 300, open: 300 } }));
    terminal.write('/');
    await tick();
    expect(engine.commands).toEqual([{ type: 'remove', count: 300 }]);
  });
});
