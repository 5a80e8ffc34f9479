/**
 * What each engine command does. Every path answers a {@link CommandResult} and logs an
 * event; a command that cannot be carried out (no admin API for a real target, say) says
 * why and changes nothing.
 */
import { formatPolicy, type EngineCommand } from './commands.ts';
import { fireEvery } from './broadcast-trigger.ts';
import { epochNow } from './clock.ts';
import type { CommandResult } from './engine-api.ts';
import type { EngineState } from './local-engine.ts';

function ok(state: EngineState, message: string): CommandResult {
  state.log('info', message);
  return { ok: true, message };
}

function refuse(state: EngineState, message: string): CommandResult {
  state.log('error', message);
  return { ok: false, message };
}

async function broadcast(state: EngineState, command: Extract<EngineCommand, { type: 'broadcast' }>): Promise<CommandResult> {
  const { trigger, fleet, broadcasts } = state;
  if (!trigger) return refuse(state, 'no broadcast trigger for this target: pass --broadcast-http or --broadcast-send');
  const topic = command.topic ?? state.options.topics[0] ?? 'all';
  const fire = async (count: number): Promise<CommandResult> => {
    const openAtSend = fleet.counts.open;
    const at = Date.now();
    const outcome = await trigger.fire({ topic, count, sizeBytes: command.sizeBytes });
    if (!outcome.ok) return refuse(state, outcome.message);
    if (outcome.firstSeq !== null && outcome.lastSeq !== null) {
      for (let seq = outcome.firstSeq; seq <= outcome.lastSeq; seq++) broadcasts.expect(topic, seq, openAtSend, at);
    }
    const seqs = outcome.firstSeq !== null ? ` (seq ${outcome.firstSeq}..${outcome.lastSeq})` : '';
    return ok(state, `broadcast ${count} × ${command.sizeBytes} B to "${topic}" via ${trigger.kind}${seqs}, ${openAtSend} open`);
  };
  if (!command.everyMs) return fire(command.count);
  fireEvery(command.count, command.everyMs, state.timers, () => fire(1));
  return ok(state, `broadcasting ${command.count} to "${topic}" every ${command.everyMs} ms`);
}

async function kill(state: EngineState, command: Extract<EngineCommand, { type: 'kill' }>): Promise<CommandResult> {
  const { fleet, recovery } = state;
  const label = `kill ${command.percent}% ${command.mode}`;
  if (command.mode !== 'server') {
    const openBefore = fleet.counts.open;
    const count = fleet.kill(command.percent, command.mode, command.victims, command.count);
    recovery.start(label, performance.now(), epochNow(), fleet.target, count);
    return ok(state, `${label}: dropped ${count} of ${openBefore} open (${command.victims}); reconnect ${formatPolicy(fleet.policy)}`);
  }
  if (!state.admin) return refuse(state, '"kill server" needs the bundled server; use reset or close against a real target');
  // drops can arrive before the answer: track from the request, learn the count from the answer
  recovery.start(label, performance.now(), epochNow(), fleet.target, 0, true);
  const result = await state.admin.kill(command.percent, 'close');
  recovery.announce(result.ok ? result.value.killed : 0);
  if (!result.ok) return refuse(state, `server kill failed: ${result.message}`);
  return ok(state, `${label}: the server dropped ${result.value.killed}`);
}

async function serverKnob(state: EngineState, command: Extract<EngineCommand, { type: 'server' }>): Promise<CommandResult> {
  if (!state.admin) return refuse(state, `"server ${command.knob}" needs the bundled server's admin API`);
  const result = await state.admin.configure({ [command.knob]: command.value });
  if (!result.ok) return refuse(state, `server ${command.knob} ${command.value}: ${result.message}`);
  return ok(state, `server ${command.knob} = ${JSON.stringify(command.value)}`);
}

// Keeps the generator's loop busy in 60 ms slices with a yield between them, the way a
// saturated generator behaves: utilisation near 1 and loop delay above 50 ms.
async function stall(ms: number): Promise<void> {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    const slice = Math.min(until, performance.now() + 60);
    while (performance.now() < slice) {
      // deliberate busy wait
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
}

// A target this host cannot hold is said before the fleet hits the wall (the entry checked the host).
function checkCapacity(state: EngineState, target: number): void {
  const limit = state.options.hostLimit;
  if (!limit || target <= limit.capacity) return;
  state.log('warn', `target ${target} exceeds what this host can hold (${limit.capacity}, bound by ${limit.binding}); see sockstorm tune check --connections ${target}`);
}

/** Carries out one command against the engine's state. */
export async function runCommand(state: EngineState, command: EngineCommand): Promise<CommandResult> {
  const { fleet } = state;
  if (command.type === 'set-target' || command.type === 'ramp') checkCapacity(state, command.count);
  if (command.type === 'add') checkCapacity(state, fleet.target + command.count);
  switch (command.type) {
    case 'set-target':
      state.ramp = null;
      fleet.setTarget(command.count);
      return ok(state, `target ${fleet.target} VUs`);
    case 'add':
      state.ramp = null;
      fleet.setTarget(fleet.target + command.count);
      return ok(state, `+${command.count} → target ${fleet.target} VUs`);
    case 'remove':
      state.ramp = null;
      fleet.setTarget(fleet.target - command.count);
      return ok(state, `-${command.count} → target ${fleet.target} VUs`);
    case 'set-rate':
      fleet.ratePerSec = command.perSec;
      return ok(state, `connect rate ${command.perSec}/s`);
    case 'ramp':
      state.ramp = { from: fleet.target, to: command.count, startedAt: performance.now(), overMs: Math.max(1, command.overMs) };
      state.wake();
      fleet.ratePerSec = Math.max(fleet.ratePerSec, (Math.abs(command.count - fleet.target) / Math.max(1, command.overMs)) * 1000 * 1.5);
      return ok(state, `ramp ${fleet.target} → ${command.count} over ${command.overMs} ms (connect rate ${Math.round(fleet.ratePerSec)}/s)`);
    case 'probe':
      state.probes.setRate(command.perSec, epochNow());
      state.repace();
      return ok(state, command.perSec > 0 ? `RTT probes ${command.perSec}/s` : 'RTT probes off');
    case 'messages':
      state.messages.template = command.template;
      state.messages.setRate(command.perSec, epochNow());
      state.repace();
      return ok(state, `messages ${command.perSec}/s`);
    case 'broadcast':
      return broadcast(state, command);
    case 'kill':
      return kill(state, command);
    case 'slow': {
      const count = fleet.slow(command.percent, command.forMs, state.timers);
      return ok(state, `slow ${count} VUs (${command.percent}%) for ${command.forMs} ms`);
    }
    case 'reconnect':
      fleet.policy = command.policy;
      return ok(state, `reconnect ${formatPolicy(command.policy)}`);
    case 'server':
      return serverKnob(state, command);
    case 'mark':
      state.marks.push({ label: command.label, atMs: Date.now() });
      return ok(state, `mark ${command.label}`);
    case 'stall':
      await stall(command.ms);
      return ok(state, `kept the generator busy for ${command.ms} ms`);
    case 'recovery-start':
      state.recovery.start(command.label, performance.now(), epochNow(), fleet.target, 0, true);
      return { ok: true, message: '' };
    case 'recovery-announce':
      state.recovery.announce(command.dropped);
      return { ok: true, message: '' };
    case 'expect-broadcast':
      for (let seq = command.firstSeq; seq <= command.lastSeq; seq++) state.broadcasts.expect(command.topic, seq, fleet.counts.open, command.atMs);
      return { ok: true, message: '' };
    case 'stop':
      state.ramp = null;
      fleet.setTarget(0);
      return ok(state, 'stop: removing every VU');
  }
}
