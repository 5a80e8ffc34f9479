/**
 * What a part does with its share of a command. The shell has split counts, rates and kills
 * already and logs what the command did; a part answers what it did with its own users.
 */
import { epochNow } from '../../../target-server/contract/clock.ts';
import { formatPolicy } from '../commands.ts';
import type { CommandResult, PartCommand } from './fleet-part.ts';
import type { sendTrigger } from '../bundled/broadcast-trigger.ts';
import type { BroadcastTracker } from '../measure/broadcast-tracker.ts';
import type { Metrics } from '../measure/metrics.ts';
import type { RecoveryTracker } from '../measure/recovery.ts';
import type { ResolvedOptions } from '../engine-options.ts';
import type { Fleet } from './fleet.ts';
import { MessageTemplate } from '../users/message-template.ts';
import type { RateScheduler } from './rate-scheduler.ts';

/** What the command handlers share with the local fleet (local-fleet.ts). */
export interface FleetState {
  readonly options: ResolvedOptions;
  readonly fleet: Fleet;
  readonly metrics: Metrics;
  readonly recovery: RecoveryTracker;
  readonly broadcasts: BroadcastTracker;
  readonly probes: RateScheduler;
  readonly messages: RateScheduler & { template?: MessageTemplate };
  readonly timers: Set<NodeJS.Timeout>;
  readonly send: ReturnType<typeof sendTrigger> | null;
  ramp: { from: number; to: number; startedAt: number; overMs: number } | null;
  /**
   * Arms the probe and message timer for the next intended send (after a rate change, and after each round of sends).
   */
  armPacer(): void;
  /** Starts the fleet tick (it runs only while handshakes queue or a ramp moves the target). */
  wake(): void;
}

const ok = (message: string): CommandResult => ({ ok: true, message });

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

/** Applies one part command to the local fleet. */
export async function applyToFleet(state: FleetState, command: PartCommand): Promise<CommandResult> {
  const { fleet } = state;
  switch (command.type) {
    case 'set-target':
      state.ramp = null;
      fleet.setTarget(command.count);
      return ok(`target ${fleet.target}`);
    case 'ramp':
      state.ramp = {
        from: fleet.target,
        to: command.count,
        startedAt: performance.now(),
        overMs: Math.max(1, command.overMs),
      };
      state.wake();
      fleet.ratePerSec = Math.max(
        fleet.ratePerSec,
        (Math.abs(command.count - fleet.target) / Math.max(1, command.overMs)) * 1000 * 1.5,
      );
      return ok(
        `ramp ${fleet.target} → ${command.count} over ${command.overMs} ms (connect rate ` +
          `${Math.round(fleet.ratePerSec)}/s)`,
      );
    case 'set-rate':
      fleet.ratePerSec = command.perSec;
      return ok(`connect rate ${command.perSec}/s`);
    case 'probe':
      state.fleet.session.probe =
        command.template && command.replyPath
          ? { template: command.template, replyPath: command.replyPath, pending: new Map() }
          : null;
      state.probes.setRate(command.perSec, epochNow());
      state.armPacer();
      return ok(
        command.perSec > 0
          ? `RTT probes ${command.perSec}/s${command.template ? ' (request/response)' : ''}`
          : 'RTT probes off',
      );
    case 'messages':
      state.messages.template = new MessageTemplate(command.template, fleet.session);
      state.messages.setRate(command.perSec, epochNow());
      state.armPacer();
      return ok(`messages ${command.perSec}/s`);
    case 'kill': {
      const openBefore = fleet.counts.open;
      const count = fleet.kill(0, command.mode, command.victims, command.count);
      state.recovery.start(command.label, performance.now(), epochNow(), fleet.target, count, false, fleet.counts.open);
      return {
        ok: true,
        message: `dropped ${count} of ${openBefore} open (${command.victims}); reconnect ${formatPolicy(fleet.policy)}`,
        count,
      };
    }
    case 'slow': {
      const count = fleet.slow(command.percent, command.forMs, state.timers);
      return { ok: true, message: `slowed ${count}`, count };
    }
    case 'reconnect':
      fleet.policy = command.policy;
      return ok(`reconnect ${formatPolicy(command.policy)}`);
    case 'stall':
      await stall(command.ms);
      return ok(`kept the generator busy for ${command.ms} ms`);
    case 'expect-broadcast':
      for (let seq = command.firstSeq; seq <= command.lastSeq; seq++)
        state.broadcasts.expect(command.topic, seq, command.atMs);
      return ok('');
    case 'send-broadcast': {
      if (!state.send) return { ok: false, message: 'no --broadcast-send template' };
      const outcome = await state.send.fire({
        topic: command.topic,
        count: command.count,
        sizeBytes: command.sizeBytes,
      });
      return outcome.ok ? ok(`sent ${command.count}`) : { ok: false, message: outcome.message };
    }
    case 'recovery-start':
      state.recovery.start(command.label, performance.now(), epochNow(), fleet.target, 0, true, fleet.counts.open);
      return ok('');
    case 'recovery-announce':
      state.recovery.announce(command.dropped);
      return ok('');
    case 'protocol': {
      if (fleet.vus.size > 0)
        return {
          ok: false,
          message:
            `"protocol ${command.name}" must come before any user: the users now speak ` +
            `${fleet.session.codec.name}`,
        };
      const { codecFor } = await import('../protocols/presets.ts');
      // a packet spanning frames is held to the frame limit too
      fleet.setCodec(await codecFor(command.name, { ...command, maxPacketBytes: state.options.maxPayloadBytes }));
      return ok(`protocol ${command.name}`);
    }
    case 'connect-payload':
      fleet.session.connect = command.template;
      return ok(command.template === null ? 'no connect payload' : `connect payload ${command.template}`);
    case 'on-open':
      if (command.template === null) fleet.session.onOpen.length = 0;
      else fleet.session.onOpen.push(command.template);
      return ok(command.template === null ? 'nothing sent on open' : `on open send ${command.template}`);
    case 'session':
      fleet.session.lifetimeMs = command.lifetimeMs;
      fleet.session.jitterMs = command.jitterMs;
      return ok(
        command.lifetimeMs > 0
          ? `sessions last ${command.lifetimeMs} ms (+ up to ${command.jitterMs} ms)`
          : 'sessions last until the end',
      );
    case 'check':
      fleet.session.addCheck(command.check);
      return ok(`check ${command.check.name}`);
    case 'users':
      if (command.rows.length === 0) return { ok: false, message: `${command.file} has no rows` };
      fleet.session.setRows(command.rows);
      return ok(`users from ${command.file}: ${command.rows.length} rows`);
    case 'template-values':
      fleet.session.setValues(command.values);
      return ok(`template values: ${Object.keys(command.values).join(', ')}`);
  }
}
