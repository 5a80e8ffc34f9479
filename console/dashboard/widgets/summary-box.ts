import contrib from 'blessed-contrib';
import type { Snapshot } from '../../engine/snapshot.ts';

const ms = (v: number, has: boolean): string => (has ? `${v.toFixed(1)}ms` : '—');

/** The figures at a glance: fleet, latency, broadcast, server. */
export function summaryBox(grid: contrib.grid, at: [number, number, number, number]) {
  const table = grid.set(...at, contrib.table, { label: 'Now', keys: false, interactive: false, columnSpacing: 1, columnWidth: [12, 22] });
  return (s: Snapshot): void => {
    const l = s.latency;
    const rows: string[][] = [
      ['target', s.target.isBundled ? `bundled ${s.target.serverEngine}` : s.target.url],
      ['open', `${s.fleet.open}/${s.fleet.target}`],
      ['policy', s.fleet.policy],
      ['connect p99', ms(l.connect.p99, l.connect.count > 0)],
      ['rtt p99', ms(l.rtt.p99, l.rtt.count > 0)],
      ['fan-out p99', ms(l.fanout.p99, l.fanout.count > 0)],
      ['reach min', s.broadcastsSettled > 0 ? `${(s.minReach * 100).toFixed(1)}%` : '—'],
      ['missed seq', String(s.totals.missed)],
      ['killed', String(s.totals.killed)],
      ['saturated', `${s.saturatedIntervals}/${s.intervals}s`],
    ];
    if (s.server) rows.push(['server', `${s.server.connections} conns, loop ${s.server.loop.delayP99Ms.toFixed(0)}ms`]);
    table.setData({ headers: ['', ''], data: rows });
  };
}
