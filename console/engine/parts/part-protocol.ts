/**
 * The messages between an engine shell and a fleet part in another process: a shard over
 * Node IPC, an agent over a WebSocket (JSON). Plain data only; one protocol for both.
 */
import type { EngineOptions } from '../engine-options.ts';
import type { CommandResult, LiveCounts, PartCommand, PartSample } from './fleet-part.ts';

/** Bumped when a message changes shape: a shell and a part of different versions refuse each other. */
export const PART_PROTOCOL_VERSION = 3;

/**
 * How a coordinator refuses an agent: at the upgrade, before any WebSocket exists, with an HTTP
 * status (the agent says why and stops trying), and `ended` is the close code of a run's end.
 */
export const REFUSED = { badToken: 401, badHello: 400, full: 409, ended: 1000 } as const;

/** The upgrade request's header that carries an agent's {@link AgentHello} (base64url JSON), so the hello is checked before the upgrade. */
export const HELLO_HEADER = 'sockstorm-hello';

/** Shell → part. */
export type ToPart =
  /** The fleet's options and where its users connect; the part answers `ready` or `failed`. */
  | { type: 'init'; options: EngineOptions; urls: string[]; name: string; isDetailed: boolean }
  | { type: 'apply'; id: number; command: PartCommand }
  /** Users rows ahead of a chunked `users` command (each frame stays far under an agent's limit). */
  | { type: 'rows'; rows: Array<Record<string, string>> }
  | { type: 'sample'; id: number; isMeasured: boolean }
  | { type: 'stop' }
  /** The run is over (agents): stop and exit. */
  | { type: 'end'; reason: string };

/** Part → shell. */
export type FromPart =
  | { type: 'ready' }
  | { type: 'failed'; message: string; code?: string }
  /** `live` is taken right after the command, so a shell's `await` never sees the state before it. */
  | { type: 'result'; id: number; result: CommandResult; live: LiveCounts }
  | { type: 'sample'; id: number; sample: PartSample; live: LiveCounts }
  | ({ type: 'live' } & LiveCounts)
  /** The fleet has stopped; its last sample covers the teardown. */
  | { type: 'stopped'; sample: PartSample | null };

/** A way to exchange messages with one part, whatever carries them. */
export interface PartChannel {
  send(message: ToPart): void;
  onMessage(listener: (message: FromPart) => void): void;
  /** Called once when the channel is gone (the process exited, the socket closed). */
  onClose(listener: (reason: string) => void): void;
  /** Ends the channel (and the process, for a shard) after `graceMs`. */
  close(graceMs: number): Promise<void>;
}

/** What an agent says of itself in its upgrade request (the {@link HELLO_HEADER}). */
export interface AgentHello {
  type: 'hello';
  protocol: number;
  token: string;
  name: string;
  /** What its host can hold (`tune check` there), or null when it cannot tell. */
  capacity: number | null;
}

/** The coordinator's first frame to an agent it accepted; a bad hello is refused at the upgrade (see coordinator.ts). */
export interface CoordinatorWelcome {
  type: 'welcome';
  name: string;
}
