import { afterEach, describe, expect, it } from 'vitest';
import type { Snapshot } from '../../console/engine/measure/snapshot.ts';
import { ConsoleSession } from '../../console/script/console-session.ts';
import { App } from '../../console/ui/app.tsx';
import { renderInTerminal, type FakeTerminal } from './fake-terminal.ts';
import { FixtureEngine, fixtureAgents, fixturePartsSnapshot } from './fixtures.ts';

let terminal: FakeTerminal | null = null;
afterEach(() => {
  terminal?.unmount();
  terminal = null;
});

const tick = (ms = 30) => new Promise((resolve) => setTimeout(resolve, ms));

async function show(snapshot: Snapshot, columns: number, rows: number): Promise<FakeTerminal> {
  const engine = new FixtureEngine(snapshot);
  terminal = renderInTerminal(
    <App engine={engine} session={new ConsoleSession(engine)} onQuit={() => {}} />,
    columns,
    rows,
  );
  await tick();
  return terminal;
}

const PANELS_80 = [
  'sockstorm ws://127.0.0.1:56523/ (bundled uws)  18.0s',
  '┌────────────────────────┐┌─────────────────────────────┐┌─────────────────────┐',
  '│ Fleet                  ││ Latency   p50    p99 p99 1s ││ Throughput /s       │',
  '│ open 667/667           ││ conn    2.9ms 35.5ms      — ││ open 0 drop 0       │',
  '│ conn 0 wait 0          ││ rtt    0.90ms 15.2ms  5.4ms ││ handshakes 0        │',
  '│ peak ≤1000 █           ││ fanout 24.5ms 38.2ms      — ││ msg in 100 4.3KiB   │',
  '│ expo 100ms..5.00s full ││ recon  57.0ms  117ms      — ││ kill 200 miss 0     │',
  '└────────────────────────┘└─────────────────────────────┘└─────────────────────┘',
  '┌──────────────────────┐┌────────────────────────┐┌────────────────────────────┐',
  '│ Errors 333           ││ Recovery               ││ Server uws publish         │',
  '│ 333 shard.lost       ││ kill 20% reset -200    ││ conn 1000 out 1916 bp 0    │',
  '│ a generator process… ││ 95% 812ms  100% 2.45s  ││ loop p99 0.80ms cpu 2.0%   │',
  '│                      ││ peak 200 hs/s          ││ rss 78.6MiB pub 0.40ms     │',
  '│                      ││ 200 tries 0 failed     ││                            │',
  '└──────────────────────┘└────────────────────────┘└────────────────────────────┘',
  ' Broadcast  #1  reach 99.5% of 1000  p50 24.5ms  p99 38.2ms  last 40.1ms',
  ' Generator  loop p99 72.4ms  util 0.97  cpu 99.0%  saturated 3/18s   SATURATED',
];

const FOOTER = ['', '+- 100  */ 1000  b broadcast  k kill 20%  r reconnect  : command  ? help  q quit'];

const FRAME_PARTS_80X24 = [
  ...PANELS_80,
  ' shard 0 334/334 p99  1.2ms 61.4MiB      shard 1 333/333 p99 72.4ms 95.0MiB SAT',
  ' shard 2 LOST',
  ' 0:15 generator saturated: loop p99 72ms',
  ' 0:16 shard 2 lost (exited with code 1): its 333 users are lost; the run goes o…',
  ...FOOTER,
];

const FRAME_PARTS_120X40 = [
  'sockstorm ws://127.0.0.1:56523/ (bundled uws)  18.0s',
  '┌────────────────────────────────────┐┌────────────────────────────────────────────┐┌──────────────────────────────────┐',
  '│ Fleet                              ││ Latency   p50    p99 p99 1s                ││ Throughput /s                    │',
  '│ open 667/667                       ││ conn    2.9ms 35.5ms      —                ││ open 0 drop 0                    │',
  '│ conn 0 wait 0                      ││ rtt    0.90ms 15.2ms  5.4ms                ││ handshakes 0                     │',
  '│ peak ≤1000 █                       ││ fanout 24.5ms 38.2ms      —                ││ msg in 100 4.3KiB                │',
  '│ 1000/s expo 100ms..5.00s full      ││ recon  57.0ms  117ms      —                ││ kill 200 miss 0                  │',
  '└────────────────────────────────────┘└────────────────────────────────────────────┘└──────────────────────────────────┘',
  '┌────────────────────────────────────┐┌──────────────────────────────────────┐┌────────────────────────────────────────┐',
  '│ Errors 333                         ││ Recovery                             ││ Server uws (native) publish            │',
  '│ 333 shard.lost                     ││ kill 20% reset -200                  ││ conn 1000 out 1916 bp 0                │',
  '│ a generator process died mid-run … ││ 95% 812ms  100% 2.45s                ││ loop p99 0.80ms cpu 2.0%               │',
  '│                                    ││ peak 200 hs/s                        ││ rss 78.6MiB pub 0.40ms                 │',
  '│                                    ││ 200 tries 0 failed                   ││                                        │',
  '└────────────────────────────────────┘└──────────────────────────────────────┘└────────────────────────────────────────┘',
  ' Broadcast  #1  to all  reach 99.5% of 1000  p50 24.5ms  p99 38.2ms  last 40.1ms  min reach 99.5%  missed 0 cut 0',
  ' Generator  loop p99 72.4ms  util 0.97  cpu 99.0%  rss 178MiB  32.7KiB/VU  saturated 3/18s   SATURATED',
  ' shard 0 334/334 p99  1.2ms 61.4MiB',
  ' shard 1 333/333 p99 72.4ms 95.0MiB SAT',
  ' shard 2 LOST',
  ' 0:01 +1000 → target 1000 VUs',
  ' 0:04 RTT probes 100/s',
  ' 0:06 broadcast 1 × 16 B to "all" via admin (seq 1..1), 1000 open',
  ' 0:09 kill 20% reset: dropped 200 of 1000 open (random); reconnect expo 100ms..5000ms full',
  ' 0:15 generator saturated: loop p99 72ms',
  ' 0:16 shard 2 lost (exited with code 1): its 333 users are lost; the run goes on with 2',
  // the log's twelve rows, six of them empty, then the command bar
  ...Array.from({ length: 6 }, () => ''),
  ...FOOTER,
];

describe('console App over fleet parts (fixture snapshots)', () => {
  it('lists three shards at 80x24 (one saturated, one lost) in two rows taken from the event log', async () => {
    const lines = (await show(fixturePartsSnapshot(), 80, 24)).lines();
    expect(lines).toEqual(FRAME_PARTS_80X24);
    expect(lines.length).toBeLessThan(24);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(80);
  });

  it('lists one part a row at 120x40, and keeps the whole event log', async () => {
    const lines = (await show(fixturePartsSnapshot(), 120, 40)).lines();
    expect(lines).toEqual(FRAME_PARTS_120X40);
    expect(lines.length).toBeLessThan(40);
  });

  it('keeps the lost and saturated of nine agents in view at 80x24 and counts the rest', async () => {
    const lines = (
      await show(fixturePartsSnapshot({ parts: fixtureAgents(9, [2, 7], [5]), partsLost: 1 }), 80, 24)
    ).lines();
    expect(lines.slice(0, PANELS_80.length)).toEqual(PANELS_80);
    expect(lines.slice(PANELS_80.length)).toEqual([
      ' loa…eu-3 1250/1250 88.0ms 140MiB SAT  loa…eu-6 LOST',
      ' loa…eu-8 1250/1250 88.0ms 140MiB SAT  +6 more',
      ' 0:15 generator saturated: loop p99 72ms',
      ' 0:16 shard 2 lost (exited with code 1): its 333 users are lost; the run goes o…',
      ...FOOTER,
    ]);
  });

  it('shows nine agents one a row at 120x40, their shared domain dropped', async () => {
    const lines = (
      await show(fixturePartsSnapshot({ parts: fixtureAgents(9, [2, 7], [5]), partsLost: 1 }), 120, 40)
    ).lines();
    expect(lines.slice(17, 26)).toEqual([
      ' loadgen-eu-1 1250/1250 p99  2.4ms 140MiB',
      ' loadgen-eu-2 1250/1250 p99  2.4ms 140MiB',
      ' loadgen-eu-3 1250/1250 p99 88.0ms 140MiB SAT',
      ' loadgen-eu-4 1250/1250 p99  2.4ms 140MiB',
      ' loadgen-eu-5 1250/1250 p99  2.4ms 140MiB',
      ' loadgen-eu-6 LOST',
      ' loadgen-eu-7 1250/1250 p99  2.4ms 140MiB',
      ' loadgen-eu-8 1250/1250 p99 88.0ms 140MiB SAT',
      ' loadgen-eu-9 1250/1250 p99  2.4ms 140MiB',
    ]);
    expect(lines[26]).toBe(' 0:01 +1000 → target 1000 VUs');
  });
});
