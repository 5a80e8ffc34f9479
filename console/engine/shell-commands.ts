/**
 * What each engine command does, once, over every fleet part: counts, rates and kills are
 * split by the parts' weights (exactly: whole users, largest remainder), broadcasts are
 * triggered once and every part is told which seqs to expect, knobs and marks are the
 * shell's. Every command answers a {@link CommandResult} and logs one event.
 */
import { fireEvery, type BroadcastTrigger } from './bundled/broadcast-trigger.ts';
import { formatPolicy, type EngineCommand, type ReconnectPolicy } from './commands.ts';
import { presetNeedsTarget, type ResolvedOptions } from './engine-options.ts';
import type { CommandResult, FleetPart, PartCommand } from './parts/fleet-part.ts';
import type { AdminApi } from './bundled/admin-client.ts';
import type { EngineEvent } from './measure/snapshot.ts';

/** What the command handlers share with the shell (shell.ts). */
export interface ShellState {
  readonly options: ResolvedOptions;
  /** The parts still in the run (a lost one leaves). */
  readonly parts: FleetPart[];
  readonly admin: AdminApi | null;
  readonly trigger: BroadcastTrigger | null;
  readonly timers: Set<NodeJS.Timeout>;
  readonly marks: Array<{ label: string; atMs: number }>;
  /** The reconnect policy in force. */
  policy: ReconnectPolicy;
  log(level: EngineEvent['level'], text: string): void;
}

/** Splits `total` in proportion to `weights`, exactly (largest remainder). */
export function splitBy(total: number, weights: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum === 0) return weights.map(() => 0);
  const raw = weights.map((w) => (total * w) / sum);
  const out = raw.map(Math.floor);
  const order = raw.map((r, i) => [r - Math.floor(r), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  const left = total - out.reduce((a, b) => a + b, 0);
  for (let k = 0; k < left; k++) out[order[k]![1]]!++;
  return out;
}

/** Splits `total` over `parts` as evenly as whole numbers allow. */
export function split(total: number, parts: number): number[] {
  return splitBy(total, new Array<number>(parts).fill(1));
}

function answer(state: ShellState, result: CommandResult): CommandResult {
  state.log(result.ok ? 'info' : 'error', result.message);
  return result;
}

/** Applies per-part commands; the first refusal is the answer. */
async function onEach(
  parts: FleetPart[],
  make: (part: FleetPart, index: number) => PartCommand | null,
): Promise<CommandResult[]> {
  return Promise.all(
    parts.map((part, i) => {
      const command = make(part, i);
      return command ? part.apply(command) : Promise.resolve({ ok: true, message: '' });
    }),
  );
}

function firstRefusal(results: CommandResult[]): CommandResult | null {
  return results.find((r) => !r.ok) ?? null;
}

const weights = (parts: FleetPart[]): number[] => parts.map((p) => p.weight);
const totalTarget = (parts: FleetPart[]): number => parts.reduce((n, p) => n + p.live().target, 0);

// A target this host cannot hold is said before the fleet hits the wall (the entry checked the host).
function checkCapacity(state: ShellState, target: number): void {
  const limit = state.options.hostLimit;
  if (!limit || target <= limit.capacity) return;
  state.log(
    'warn',
    `target ${target} exceeds what this host can hold (${limit.capacity}, bound by ` +
      `${limit.binding}); see sockstorm tune check --connections ${target}`,
  );
}

async function setTarget(state: ShellState, target: number, message: string): Promise<CommandResult> {
  checkCapacity(state, target);
  const shares = splitBy(target, weights(state.parts));
  const refused = firstRefusal(await onEach(state.parts, (_, i) => ({ type: 'set-target', count: shares[i]! })));
  return answer(
    state,
    refused ?? { ok: true, message: `${message}${state.parts.length > 1 ? ` over ${state.parts.length} parts` : ''}` },
  );
}

async function broadcast(
  state: ShellState,
  command: Extract<EngineCommand, { type: 'broadcast' }>,
): Promise<CommandResult> {
  const { trigger, parts } = state;
  const topic = command.topic ?? state.options.topics[0] ?? 'all';
  if (!trigger) {
    if (!state.options.broadcastSend)
      return answer(state, {
        ok: false,
        message: 'no broadcast trigger for this target: pass --broadcast-http or --broadcast-send',
      });
    const sendOne = async (count: number): Promise<CommandResult> => {
      const result = await parts[0]!.apply({ type: 'send-broadcast', count, topic, sizeBytes: command.sizeBytes });
      return answer(
        state,
        result.ok
          ? { ok: true, message: `broadcast ${count} × ${command.sizeBytes} B to "${topic}" via send` }
          : result,
      );
    };
    if (!command.everyMs) return sendOne(command.count);
    fireEvery(command.count, command.everyMs, state.timers, () => sendOne(1));
    return answer(state, {
      ok: true,
      message: `broadcasting ${command.count} to "${topic}" every ${command.everyMs} ms`,
    });
  }
  const fire = async (count: number): Promise<CommandResult> => {
    const open = parts.reduce((n, p) => n + p.live().open, 0);
    const atMs = Date.now();
    const outcome = await trigger.fire({ topic, count, sizeBytes: command.sizeBytes });
    if (!outcome.ok) return answer(state, { ok: false, message: outcome.message });
    if (outcome.firstSeq !== null && outcome.lastSeq !== null) {
      const { firstSeq, lastSeq } = outcome;
      await onEach(parts, () => ({ type: 'expect-broadcast', topic, firstSeq, lastSeq, atMs }));
    }
    const seqs = outcome.firstSeq !== null ? ` (seq ${outcome.firstSeq}..${outcome.lastSeq})` : '';
    return answer(state, {
      ok: true,
      message: `broadcast ${count} × ${command.sizeBytes} B to "${topic}" via ${trigger.kind}${seqs}, ${open} open`,
    });
  };
  if (!command.everyMs) return fire(command.count);
  // every message of the series is logged, on every backend
  fireEvery(command.count, command.everyMs, state.timers, () => fire(1));
  return answer(state, {
    ok: true,
    message: `broadcasting ${command.count} to "${topic}" every ${command.everyMs} ms`,
  });
}

// The server picks the victims, so no part knows its share in advance: every part starts
// tracking at the request, and once the drops the server reported have landed (parts tell
// server kills from failures by the close reason) each is told how many were its own.
async function killByServer(state: ShellState, percent: number): Promise<CommandResult> {
  const { admin, parts } = state;
  if (!admin)
    return answer(state, {
      ok: false,
      message: '"kill server" needs the bundled server; use reset or close against a real target',
    });
  const label = `kill ${percent}% server`;
  const before = parts.map((p) => p.live().killed);
  await onEach(parts, () => ({ type: 'recovery-start', label }));
  const result = await admin.kill(percent, 'close');
  const total = result.ok ? result.value.killed : 0;
  const landed = (): number => parts.reduce((n, p, i) => n + p.live().killed - before[i]!, 0);
  const deadline = Date.now() + 5000;
  while (landed() < total && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  await onEach(parts, (p, i) => ({
    type: 'recovery-announce',
    dropped: parts.length === 1 ? total : p.live().killed - before[i]!,
  }));
  if (!result.ok) return answer(state, { ok: false, message: `server kill failed: ${result.message}` });
  return answer(state, {
    ok: true,
    message:
      `${label}: the server dropped ` +
      `${total}${landed() < total ? ` (${landed()} seen by the fleet within 5 s)` : ''}`,
  });
}

/** Carries out one command over the parts. */
export async function dispatchCommand(state: ShellState, command: EngineCommand): Promise<CommandResult> {
  const { parts } = state;
  switch (command.type) {
    case 'set-target':
      return setTarget(state, command.count, `target ${command.count} VUs`);
    case 'add': {
      const target = totalTarget(parts) + command.count;
      return setTarget(state, target, `+${command.count} → target ${target} VUs`);
    }
    case 'remove': {
      const now = totalTarget(parts);
      const target = Math.max(0, now - command.count);
      return setTarget(state, target, `-${now - target} → target ${target} VUs`);
    }
    case 'stop':
      return setTarget(state, 0, 'stop: removing every VU');
    case 'ramp': {
      checkCapacity(state, command.count);
      const from = totalTarget(parts);
      const shares = splitBy(command.count, weights(parts));
      const results = await onEach(parts, (_, i) => ({ type: 'ramp', count: shares[i]!, overMs: command.overMs }));
      return answer(
        state,
        firstRefusal(results) ?? {
          ok: true,
          message:
            parts.length === 1
              ? `ramp ${results[0]!.message.replace(/^ramp /, '')}`
              : `ramp ${from} → ${command.count} over ${command.overMs} ms over ${parts.length} parts`,
        },
      );
    }
    case 'set-rate':
    case 'probe':
    case 'messages': {
      const sum = weights(parts).reduce((a, b) => a + b, 0) || 1;
      const results = await onEach(parts, (p) => ({ ...command, perSec: (command.perSec * p.weight) / sum }));
      const what =
        command.type === 'set-rate'
          ? `connect rate ${command.perSec}/s`
          : command.type === 'probe'
            ? command.perSec > 0
              ? `RTT probes ${command.perSec}/s`
              : 'RTT probes off'
            : `messages ${command.perSec}/s`;
      return answer(state, firstRefusal(results) ?? { ok: true, message: what });
    }
    case 'kill': {
      if (command.mode === 'server') return killByServer(state, command.percent);
      const opens = parts.map((p) => p.live().open);
      const openBefore = opens.reduce((a, b) => a + b, 0);
      const shares = splitBy(command.count ?? Math.round((openBefore * command.percent) / 100), opens);
      const label = `kill ${command.percent}% ${command.mode}`;
      const results = await onEach(parts, (_, i) => ({
        type: 'kill',
        label,
        mode: command.mode as 'reset' | 'close',
        victims: command.victims,
        count: shares[i]!,
      }));
      const dropped = results.reduce((n, r) => n + (r.count ?? 0), 0);
      return answer(
        state,
        firstRefusal(results) ?? {
          ok: true,
          message:
            `${label}: dropped ${dropped} of ${openBefore} open (${command.victims}); reconnect ` +
            `${formatPolicy(state.policy)}`,
          count: dropped,
        },
      );
    }
    case 'slow': {
      const results = await onEach(parts, () => command);
      const count = results.reduce((n, r) => n + (r.count ?? 0), 0);
      return answer(
        state,
        firstRefusal(results) ?? {
          ok: true,
          message: `slow ${count} VUs (${command.percent}%) for ${command.forMs} ms`,
        },
      );
    }
    case 'reconnect': {
      const refused = firstRefusal(await onEach(parts, () => command));
      if (!refused) state.policy = command.policy;
      return answer(state, refused ?? { ok: true, message: `reconnect ${formatPolicy(command.policy)}` });
    }
    case 'stall':
      return answer(
        state,
        firstRefusal(await onEach(parts, () => command)) ?? {
          ok: true,
          message: `kept the generator busy for ${command.ms} ms`,
        },
      );
    case 'broadcast':
      return broadcast(state, command);
    case 'server': {
      if (!state.admin)
        return answer(state, { ok: false, message: `"server ${command.knob}" needs the bundled server's admin API` });
      const result = await state.admin.configure({ [command.knob]: command.value });
      if (!result.ok)
        return answer(state, { ok: false, message: `server ${command.knob} ${command.value}: ${result.message}` });
      // a live change of the server is a point in the series: the report and the console show it
      state.marks.push({ label: `server ${command.knob} ${command.value}`, atMs: Date.now() });
      return answer(state, { ok: true, message: `server ${command.knob} = ${JSON.stringify(command.value)}` });
    }
    case 'mark':
      state.marks.push({ label: command.label, atMs: Date.now() });
      return answer(state, { ok: true, message: `mark ${command.label}` });
    case 'users': {
      // each part gets every n-th row, so users of different parts never share a row
      const results = await onEach(parts, (_, i) => ({
        ...command,
        rows: command.rows.filter((__, k) => k % parts.length === i),
      }));
      return answer(
        state,
        firstRefusal(results) ?? { ok: true, message: `users from ${command.file}: ${command.rows.length} rows` },
      );
    }
    case 'protocol':
    case 'connect-payload':
    case 'on-open':
    case 'session':
    case 'check':
    case 'template-values': {
      // the bundled server (the only run with an admin API) speaks raw WebSocket only
      if (command.type === 'protocol' && state.admin && command.name !== 'raw')
        return answer(state, { ok: false, message: presetNeedsTarget(command.name) });
      // the per-user session is the same in every part
      const results = await onEach(parts, () => command);
      return answer(state, firstRefusal(results) ?? results[0] ?? { ok: true, message: command.type });
    }
  }
}
