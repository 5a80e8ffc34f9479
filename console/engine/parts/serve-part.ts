/**
 * The remote side of a fleet part: a local fleet driven by a shell over a channel (the shard
 * process's IPC, an agent's WebSocket). It applies commands, samples when asked, sends live
 * counts ten times a second, and reports when it has stopped.
 */
import type { CommandResult } from './fleet-part.ts';
import { resolveOptions, type EngineOptions } from '../engine-options.ts';
import type { FleetPart } from './fleet-part.ts';
import { startLocalFleet } from './local-fleet.ts';
import type { FromPart, ToPart } from './part-protocol.ts';

/** The two ends a served part needs: send to the shell, and learn of its messages. */
export interface ServedChannel {
  send(message: FromPart): void;
  onMessage(listener: (message: ToPart) => void): void;
}

/** What the serving program hears back: the fleet stopped (asked or at the end), or the run ended. */
export interface ServeEvents {
  onStopped?(): void;
  onEnd?(reason: string): void;
  /** This host's own options over the shell's (an agent's source addresses and capacity). */
  override?: EngineOptions;
}

/** Serves one part over a channel until it is stopped; returns a function that stops it (the channel died). */
export function servePart(channel: ServedChannel, events: ServeEvents = {}): () => Promise<void> {
  let fleet: FleetPart | null = null;
  let isStarting = false;
  let liveTimer: NodeJS.Timeout | null = null;
  let stopping: Promise<void> | null = null;
  // rows of a chunked `users` command, until the command itself comes
  let rows: Array<Record<string, string>> = [];
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (liveTimer) clearInterval(liveTimer);
      await fleet?.stop();
      events.onStopped?.();
    })();
    return stopping;
  };
  channel.onMessage((message) => {
    switch (message.type) {
      case 'init': {
        if (fleet || isStarting) return channel.send({ type: 'failed', message: 'already running a fleet' });
        isStarting = true;
        const failed = (error: unknown): void =>
          channel.send({ type: 'failed', message: (error as Error).message, code: (error as { code?: string }).code });
        // the fleet resolves the target's names here, on this host (an agent's resolver may answer otherwise)
        void Promise.resolve()
          // keys the override holds win, even when undefined (an agent's unknown capacity is not the coordinator's)
          .then(() => resolveOptions({ ...message.options, ...events.override, workers: 1, agents: undefined }))
          .then((options) =>
            startLocalFleet(options, { name: message.name, urls: message.urls, isDetailed: message.isDetailed }),
          )
          .then((f) => {
            fleet = f;
            if (stopping) return void f.stop();
            liveTimer = setInterval(() => channel.send({ type: 'live', ...f.live() }), 100);
            channel.send({ type: 'ready' });
          }, failed);
        return;
      }
      case 'rows':
        for (const row of message.rows) rows.push(row);
        return;
      case 'apply': {
        let command = message.command;
        if (command.type === 'users' && command.isChunked) {
          command = { type: 'users', file: command.file, rows };
          rows = [];
        }
        if (!fleet)
          return channel.send({
            type: 'result',
            id: message.id,
            result: { ok: false, message: 'no fleet yet' },
            live: { open: 0, target: 0, isRecovered: true, killed: 0 },
          });
        // a command the fleet throws on is refused with its message, never an uncaught rejection
        void fleet
          .apply(command)
          .catch((error: Error): CommandResult => ({ ok: false, message: `refused: ${error.message}` }))
          .then((result) => channel.send({ type: 'result', id: message.id, result, live: fleet!.live() }));
        return;
      }
      case 'sample':
        if (!fleet) return;
        void fleet.sample(message.isMeasured).then(
          (sample) => channel.send({ type: 'sample', id: message.id, sample, live: fleet!.live() }),
          () => {},
        );
        return;
      case 'stop':
        void stop().then(async () =>
          channel.send({ type: 'stopped', sample: fleet ? await fleet.sample(false) : null }),
        );
        return;
      case 'end':
        void stop().then(() => events.onEnd?.(message.reason));
        return;
    }
  });
  return stop;
}
