/**
 * The console's panels: views only. Each takes the latest snapshot (and the recent ones for
 * sparklines) and renders; none holds state or talks to the engine. Every figure comes from
 * console/report/format.ts; a line too long for its panel drops whole segments, never a figure
 * in half, where the figure matters (the generator and broadcast lines).
 */
import { Box, Text } from 'ink';
import { adviceFor } from '../engine/measure/classify-error.ts';
import type { LatencySummary } from '../engine/measure/histogram.ts';
import type { Snapshot } from '../engine/measure/snapshot.ts';
import type { ServerConfig } from '../../target-server/contract/wire.ts';
import { bytes, count, ms, percent, plain, rate } from '../report/format.ts';
import { fanoutLabel, fitSegments, policyLabel, short, shortBytes, sparkline, type Segment } from './format.ts';

interface PanelProps {
  snapshot: Snapshot;
  history: Snapshot[];
  width: number;
}

/** Border and padding of a panel, in cells. */
const FRAME = 4;

function Panel({
  title,
  width,
  children,
  color,
}: {
  title: string;
  width: number;
  children: React.ReactNode;
  color?: string;
}) {
  return (
    <Box flexDirection="column" width={width} borderStyle="single" borderColor={color ?? 'gray'} paddingX={1}>
      <Text bold wrap="truncate">
        {title}
      </Text>
      {children}
    </Box>
  );
}

/** A readout segment and how it is drawn. */
interface Styled extends Segment {
  color?: string;
  isBold?: boolean;
  isInverse?: boolean;
}

/** One line of segments, as many as fit `width` less its padding. */
function SegmentLine({ segments, width }: { segments: Styled[]; width: number }) {
  const kept = fitSegments(segments, width - 2);
  return (
    <Box width={width} paddingX={1}>
      <Text wrap="truncate">
        {kept.map((s, index) => (
          <Text key={s.text}>
            {index > 0 ? '  ' : ''}
            <Text color={s.color} bold={s.isBold} inverse={s.isInverse}>
              {s.text}
            </Text>
          </Text>
        ))}
      </Text>
    </Box>
  );
}

/** Target, open, connecting, waiting, with a sparkline of open users captioned by their peak. */
export function FleetPanel({ snapshot, history, width }: PanelProps) {
  const f = snapshot.fleet;
  // kept by the engine at each open, so users opened and gone within a second count; over
  // several parts it is the sum of theirs, an upper bound (≤). It captions the sparkline of open
  // users in at most 10 cells, so the line fits any panel width
  const peak = `peak ${(snapshot.parts?.length ?? 0) > 1 ? '≤' : ''}${short(f.peakOpen)}`;
  const settings = fitSegments(
    [
      { text: rate(f.ratePerSec), priority: 2 },
      { text: policyLabel(f.policy), priority: 3 },
      ...(f.probePerSec > 0 ? [{ text: `probe ${rate(f.probePerSec)}`, priority: 1 }] : []),
    ],
    width - FRAME,
    1,
  );
  return (
    <Panel title="Fleet" width={width}>
      <Text wrap="truncate">
        open{' '}
        <Text color="green" bold>
          {f.open}
        </Text>
        /{f.target}
      </Text>
      <Text wrap="truncate">
        {fitSegments(
          [
            { text: `conn ${short(f.connecting)}`, priority: 9 },
            { text: `wait ${short(f.waiting)}`, priority: 8 },
            ...(f.pending > 0 ? [{ text: `queue ${short(f.pending)}`, priority: 7 }] : []),
            ...(f.closed > 0 ? [{ text: `closed ${short(f.closed)}`, priority: 6 }] : []),
            ...(f.slowed > 0 ? [{ text: `slow ${short(f.slowed)}`, priority: 5 }] : []),
          ],
          width - FRAME,
          1,
        )
          .map((segment) => segment.text)
          .join(' ')}
      </Text>
      <Text wrap="truncate">
        {peak}{' '}
        <Text color="green">
          {sparkline(
            history.map((s) => s.fleet.open),
            width - FRAME - peak.length - 1,
          )}
        </Text>
      </Text>
      <Text dimColor wrap="truncate">
        {settings.map((s) => s.text).join(' ')}
      </Text>
    </Panel>
  );
}

function latencyRow(name: string, s: LatencySummary, interval: LatencySummary) {
  return (
    `${name.padEnd(6)} ${ms(s.count > 0 ? s.p50 : null).padStart(6)} ` +
    `${ms(s.count > 0 ? s.p99 : null).padStart(6)} ` +
    `${ms(interval.count > 0 ? interval.p99 : null).padStart(6)}`
  );
}

/** connect, RTT, fan-out and reconnect p50/p99 for the run, and p99 of the last second. */
export function LatencyPanel({ snapshot, width }: PanelProps) {
  const { latency, interval } = snapshot;
  // RTT is measured only by probes, and they are off until asked for: say how
  const hasNoRtt = latency.rtt.count === 0 && snapshot.fleet.probePerSec === 0;
  return (
    <Panel title="Latency   p50    p99 p99 1s" width={width}>
      <Text wrap="truncate">{latencyRow('conn', latency.connect, interval.connect)}</Text>
      {hasNoRtt ? (
        <Text wrap="truncate" dimColor>
          {'rtt'.padEnd(6)} {ms(null)} (:probe 100/s)
        </Text>
      ) : (
        <Text wrap="truncate">{latencyRow('rtt', latency.rtt, interval.rtt)}</Text>
      )}
      <Text wrap="truncate">{latencyRow('fanout', latency.fanout, interval.fanout)}</Text>
      <Text wrap="truncate">{latencyRow('recon', latency.reconnect, interval.reconnect)}</Text>
    </Panel>
  );
}

/** Connects, drops and messages per second. */
export function ThroughputPanel({ snapshot, width }: PanelProps) {
  const r = snapshot.rates;
  const t = snapshot.totals;
  return (
    <Panel title="Throughput /s" width={width}>
      <Text wrap="truncate">
        open {short(r.connectsPerSec)} drop {short(r.disconnectsPerSec)}
      </Text>
      <Text wrap="truncate">handshakes {short(r.attemptsPerSec)}</Text>
      <Text wrap="truncate">
        msg in {short(r.messagesInPerSec)} {shortBytes(r.bytesInPerSec)}
      </Text>
      <Text wrap="truncate" dimColor>
        kill {short(t.killed)} miss {short(t.missed)}
      </Text>
    </Panel>
  );
}

/** Errors by class, the largest first, with what to do about the first. */
export function ErrorsPanel({ snapshot, width }: PanelProps) {
  const errors = Object.entries(snapshot.errors).sort((a, b) => b[1] - a[1]);
  const shown = errors.slice(0, 3).map(([name, n]) => [name, count(n)] as const);
  const pad = Math.max(0, ...shown.map(([, n]) => n.length));
  return (
    <Panel
      title={`Errors ${count(errors.reduce((n, [, c]) => n + c, 0))}`}
      width={width}
      color={errors.length > 0 ? 'red' : 'gray'}
    >
      {errors.length === 0 ? (
        <Text dimColor>none</Text>
      ) : (
        shown.map(([name, n]) => (
          <Text key={name} color="red" wrap="truncate">
            {n.padStart(pad)} {name}
          </Text>
        ))
      )}
      {errors.length > 0 ? (
        <Text dimColor wrap="truncate">
          {adviceFor(errors[0]![0])}
        </Text>
      ) : null}
    </Panel>
  );
}

/** Recovery after the last chaos action: when 95% and all of the target were open again. */
export function RecoveryPanel({ snapshot, width }: PanelProps) {
  const r = snapshot.recovery;
  if (!r) {
    return (
      <Panel title="Recovery" width={width}>
        <Text dimColor wrap="truncate">
          no chaos yet
        </Text>
        <Text dimColor wrap="truncate">
          (k kills 20%)
        </Text>
      </Panel>
    );
  }
  const p95 = `95% ${ms(r.p95Ms)}`;
  const full = `100% ${ms(r.fullMs)}`;
  const times = p95.length + full.length + 2 <= width - FRAME ? `${p95}  ${full}` : `${p95} ${full}`;
  return (
    <Panel title="Recovery" width={width}>
      <Text wrap="truncate">
        {r.action} -{short(r.dropped)}
      </Text>
      <Text wrap="truncate" bold color={r.fullMs === null ? 'yellow' : 'green'}>
        {times}
      </Text>
      <Text wrap="truncate" dimColor>
        peak {short(r.peakHandshakesPerSec)} hs/s
      </Text>
      <Text wrap="truncate" dimColor>
        {short(r.attempts)} tries {short(r.failures)} failed
      </Text>
    </Panel>
  );
}

/** The bundled server's knobs that are not at their defaults, as many as fit `width`. */
function knobsLine(config: ServerConfig, width: number): string {
  return fitSegments(
    [
      ...(config.workMs > 0 ? [{ text: `work ${ms(config.workMs)}`, priority: 5 }] : []),
      ...(config.compression ? [{ text: 'deflate', priority: 4 }] : []),
      ...(config.rejectPercent > 0 ? [{ text: `reject ${percent(config.rejectPercent / 100)}`, priority: 3 }] : []),
      ...(config.acceptDelayMs > 0 ? [{ text: `accept +${ms(config.acceptDelayMs)}`, priority: 2 }] : []),
    ],
    width,
    1,
  )
    .map((s) => s.text)
    .join(' ');
}

/**
 * The bundled server's /stats (dimmed, with the reason, once /stats fails), or the target. The
 * title names the engine and the fan-out in force, so `server fanout loop` shows at once.
 */
export function ServerPanel({ snapshot, width }: PanelProps) {
  const s = snapshot.server;
  if (!s) {
    return (
      <Panel title="Server" width={width}>
        <Text wrap="truncate">{snapshot.target.url}</Text>
        <Text dimColor wrap="truncate">
          {snapshot.target.isBundled ? (snapshot.serverError ?? 'waiting for /stats') : 'real target: no /stats'}
        </Text>
      </Panel>
    );
  }
  const isStale = snapshot.serverError !== null;
  // `(native)` only where it fits beside the longest mode, so that it does not come and go with the mode
  const native = s.native && `Server ${s.engine} (native) publish`.length <= width - FRAME ? ' (native)' : '';
  const title = `Server ${s.engine}${native} ${fanoutLabel(s.config.fanout, s.native)}`;
  return (
    <Panel title={title} width={width} color={isStale ? 'yellow' : undefined}>
      <Text wrap="truncate" dimColor={isStale}>
        conn {short(s.connections)} out {short(s.messagesOut)} bp {short(s.backpressureDrops)}
      </Text>
      <Text wrap="truncate" dimColor={isStale}>
        loop p99 {ms(s.loop.delayP99Ms)} cpu {percent((s.cpu.userPercent + s.cpu.systemPercent) / 100)}
      </Text>
      <Text wrap="truncate" dimColor>
        rss {bytes(s.rssBytes)} pub {ms(s.publishMsLast)}
      </Text>
      {isStale ? (
        <Text wrap="truncate" color="yellow">
          stale: {snapshot.serverError}
        </Text>
      ) : (
        <Text wrap="truncate">{knobsLine(s.config, width - FRAME)}</Text>
      )}
    </Panel>
  );
}

/** The last settled broadcast on one line: its reach and how long the fan-out took. */
export function BroadcastLine({ snapshot, width }: PanelProps) {
  const b = snapshot.broadcasts[snapshot.broadcasts.length - 1];
  const label: Styled = { text: 'Broadcast', priority: 10, isBold: true };
  if (!b)
    return (
      <SegmentLine width={width} segments={[label, { text: 'none yet (b sends one)', priority: 9, color: 'gray' }]} />
    );
  const isShort = b.reach < 1;
  return (
    <SegmentLine
      width={width}
      segments={[
        label,
        { text: `#${b.seq}`, priority: 9 },
        { text: `to ${b.topic}`, priority: 1 },
        {
          text: `reach ${percent(b.reach)} of ${count(b.openAtSend)}`,
          priority: 8,
          color: isShort ? 'yellow' : 'green',
        },
        { text: `p50 ${ms(b.p50Ms)}`, priority: 3 },
        { text: `p99 ${ms(b.p99Ms)}`, priority: 7 },
        { text: `last ${ms(b.lastMs)}`, priority: 6 },
        ...(snapshot.minReach < 1
          ? [{ text: `min reach ${percent(snapshot.minReach)}`, priority: 2, color: 'yellow' }]
          : []),
        { text: `missed ${count(snapshot.totals.missed)} cut ${count(snapshot.totals.cut)}`, priority: 0 },
      ]}
    />
  );
}

/** The generator's own health on one line; the saturated count and the SATURATED flag always fit. */
export function HealthPanel({ snapshot, width }: PanelProps) {
  const h = snapshot.health;
  return (
    <SegmentLine
      width={width}
      segments={[
        { text: 'Generator', priority: 10, isBold: true, color: h.isSaturated ? 'red' : undefined },
        { text: `loop p99 ${ms(h.loopDelayP99Ms)}`, priority: 7 },
        { text: `util ${plain(h.utilization)}`, priority: 5 },
        { text: `cpu ${percent(h.cpuPercent / 100)}`, priority: 4 },
        { text: `rss ${bytes(h.rssBytes)}`, priority: 2 },
        ...(h.bytesPerOpenVu > 0 ? [{ text: `${bytes(h.bytesPerOpenVu)}/VU`, priority: 1 }] : []),
        {
          text: `saturated ${snapshot.saturatedIntervals}/${snapshot.intervals}s`,
          priority: 9,
          color: snapshot.saturatedIntervals > 0 ? 'red' : undefined,
        },
        ...(h.isSaturated ? [{ text: ' SATURATED ', priority: 10, color: 'red', isBold: true, isInverse: true }] : []),
      ]}
    />
  );
}
