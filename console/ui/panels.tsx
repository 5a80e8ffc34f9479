/**
 * The console's panels: views only. Each takes the latest snapshot (and the recent ones for
 * sparklines) and renders; none holds state or talks to the engine.
 */
import { Box, Text } from 'ink';
import { adviceFor } from '../engine/classify-error.ts';
import type { LatencySummary } from '../engine/histogram.ts';
import type { Snapshot } from '../engine/snapshot.ts';
import { bytes, count, ms } from '../report/format.ts';
import { sparkline } from './format.ts';

interface PanelProps {
  snapshot: Snapshot;
  history: Snapshot[];
  width: number;
}

function Panel({ title, width, children, color }: { title: string; width: number; children: React.ReactNode; color?: string }) {
  return (
    <Box flexDirection="column" width={width} borderStyle="single" borderColor={color ?? 'gray'} paddingX={1}>
      <Text bold>{title}</Text>
      {children}
    </Box>
  );
}

/** Target, open, connecting, waiting, with a sparkline of open users. */
export function FleetPanel({ snapshot, history, width }: PanelProps) {
  const f = snapshot.fleet;
  return (
    <Panel title="Fleet" width={width}>
      <Text wrap="truncate">open <Text color="green" bold>{f.open}</Text>/{f.target}</Text>
      <Text wrap="truncate">
        conn {f.connecting} wait {f.waiting}{f.pending > 0 ? ` queue ${f.pending}` : ''}{f.closed > 0 ? ` closed ${f.closed}` : ''}{f.slowed > 0 ? ` slow ${f.slowed}` : ''}
      </Text>
      <Text color="green">{sparkline(history.map((s) => s.fleet.open), width - 4)}</Text>
      <Text dimColor wrap="truncate">{f.ratePerSec}/s {f.policy}{f.probePerSec > 0 ? ` probe ${f.probePerSec}/s` : ''}</Text>
    </Panel>
  );
}

function latencyRow(name: string, s: LatencySummary, interval: LatencySummary) {
  return `${name.padEnd(6)} ${ms(s.count > 0 ? s.p50 : null).padStart(6)} ${ms(s.count > 0 ? s.p99 : null).padStart(6)} ${ms(interval.count > 0 ? interval.p99 : null).padStart(6)}`;
}

/** connect, RTT, fan-out and reconnect p50/p99 for the run, and p99 of the last second. */
export function LatencyPanel({ snapshot, width }: PanelProps) {
  const { latency, interval } = snapshot;
  return (
    <Panel title="Latency   p50    p99 p99 1s" width={width}>
      <Text>{latencyRow('conn', latency.connect, interval.connect)}</Text>
      <Text>{latencyRow('rtt', latency.rtt, interval.rtt)}</Text>
      <Text>{latencyRow('fanout', latency.fanout, interval.fanout)}</Text>
      <Text>{latencyRow('recon', latency.reconnect, interval.reconnect)}</Text>
    </Panel>
  );
}

/** Connects, drops and messages per second. */
export function ThroughputPanel({ snapshot, width }: PanelProps) {
  const r = snapshot.rates;
  const t = snapshot.totals;
  return (
    <Panel title="Throughput /s" width={width}>
      <Text wrap="truncate">open +{count(r.connectsPerSec)} drop {count(r.disconnectsPerSec)}</Text>
      <Text wrap="truncate">handshakes {count(r.attemptsPerSec)}</Text>
      <Text wrap="truncate">msg in {count(r.messagesInPerSec)} {bytes(r.bytesInPerSec)}</Text>
      <Text wrap="truncate" dimColor>killed {t.killed} missed {t.missed}</Text>
    </Panel>
  );
}

/** Errors by class, the largest first, with what to do about the first. */
export function ErrorsPanel({ snapshot, width }: PanelProps) {
  const errors = Object.entries(snapshot.errors).sort((a, b) => b[1] - a[1]);
  return (
    <Panel title={`Errors ${errors.reduce((n, [, c]) => n + c, 0)}`} width={width} color={errors.length > 0 ? 'red' : 'gray'}>
      {errors.length === 0 ? <Text dimColor>none</Text> : errors.slice(0, 2).map(([name, n]) => <Text key={name} color="red" wrap="truncate">{String(n).padStart(6)} {name}</Text>)}
      {errors.length > 0 ? <Text dimColor wrap="truncate">{adviceFor(errors[0]![0])}</Text> : <Text> </Text>}
    </Panel>
  );
}

/** Recovery after the last chaos action, and the last broadcast. */
export function RecoveryPanel({ snapshot, width }: PanelProps) {
  const r = snapshot.recovery;
  const b = snapshot.broadcasts[snapshot.broadcasts.length - 1];
  return (
    <Panel title="Recovery / broadcast" width={width}>
      <Text wrap="truncate">{r ? `${r.action}: -${r.dropped}  95% ${ms(r.p95Ms)}  100% ${ms(r.fullMs)}` : 'no chaos yet (k kills 20%)'}</Text>
      <Text wrap="truncate" dimColor>{r ? `peak ${r.peakHandshakesPerSec} hs/s  ${r.attempts} tries  ${r.failures} failed` : ' '}</Text>
      <Text wrap="truncate">{b ? `#${b.seq} reach ${(b.reach * 100).toFixed(1)}%  p99 ${ms(b.p99Ms)}  last ${ms(b.lastMs)}` : 'no broadcast yet (b sends one)'}</Text>
    </Panel>
  );
}

/** The bundled server's /stats, or the target. */
export function ServerPanel({ snapshot, width }: PanelProps) {
  const s = snapshot.server;
  if (!s) {
    return (
      <Panel title="Server" width={width}>
        <Text wrap="truncate">{snapshot.target.url}</Text>
        <Text dimColor>{snapshot.target.isBundled ? snapshot.serverError ?? 'waiting for /stats' : 'real target: no /stats'}</Text>
        <Text> </Text>
      </Panel>
    );
  }
  return (
    <Panel title={`Server ${s.engine}${s.native ? ' (native)' : ''}`} width={width}>
      <Text wrap="truncate">conns {s.connections} out {count(s.messagesOut)} bp {s.backpressureDrops}</Text>
      <Text wrap="truncate">loop p99 {ms(s.loop.delayP99Ms)} cpu {(s.cpu.userPercent + s.cpu.systemPercent).toFixed(0)}%</Text>
      <Text wrap="truncate" dimColor>rss {bytes(s.rssBytes)} pub {ms(s.publishMsLast)} work {s.config.workMs}ms</Text>
    </Panel>
  );
}

/** The generator's own health on one line, with the SATURATED flag. */
export function HealthPanel({ snapshot, width }: PanelProps) {
  const h = snapshot.health;
  return (
    <Box width={width} paddingX={1}>
      <Text wrap="truncate">
        <Text bold>Generator</Text> loop p99 {ms(h.loopDelayP99Ms)}  util {h.utilization.toFixed(2)}  cpu {h.cpuPercent.toFixed(0)}%  rss {bytes(h.rssBytes)}
        {h.bytesPerOpenVu > 0 ? `  ${bytes(h.bytesPerOpenVu)}/VU` : ''}  saturated {snapshot.saturatedIntervals}/{snapshot.intervals}s
        {h.isSaturated ? <Text color="red" bold inverse> SATURATED </Text> : null}
      </Text>
    </Box>
  );
}
