/**
 * Commands the engine accepts: plain data, so they can cross threads and processes unchanged.
 * The console's keys, its command line and script files all end up as these.
 */

import type { ProtocolName } from './protocols/codec.ts';
import type { CheckSpec } from './users/session.ts';

/** How a dropped virtual user tries again. */
export type ReconnectPolicy =
  | { kind: 'off' }
  | { kind: 'immediate' }
  | { kind: 'fixed'; delayMs: number }
  | { kind: 'expo'; minMs: number; maxMs: number; jitter: 'none' | 'full' | 'equal' };

/** How chaos cuts a connection: no close frame, a close frame, or by the bundled server. */
export type KillMode = 'reset' | 'close' | 'server';

/** Which open users a chaos action picks. */
export type VictimChoice = 'random' | 'oldest' | 'newest';

/** A command to the engine. */
export type EngineCommand =
  | { type: 'set-target'; count: number }
  | { type: 'add'; count: number }
  | { type: 'remove'; count: number }
  | { type: 'set-rate'; perSec: number }
  | { type: 'ramp'; count: number; overMs: number }
  /**
   * RTT probes: the bundled server's echo, or `template` with
   * `{{id}}` answered by a reply whose `replyPath` holds the id.
   */
  | { type: 'probe'; perSec: number; template?: string; replyPath?: string }
  | { type: 'messages'; perSec: number; template: string }
  | { type: 'broadcast'; count: number; sizeBytes: number; topic?: string; everyMs?: number }
  /** `count`, when given, is exact and overrides `percent` (a coordinator splitting a kill over shards). */
  | { type: 'kill'; percent: number; mode: KillMode; victims: VictimChoice; count?: number }
  | { type: 'slow'; percent: number; forMs: number }
  | { type: 'reconnect'; policy: ReconnectPolicy }
  | { type: 'server'; knob: string; value: number | string | boolean }
  | { type: 'mark'; label: string }
  /** Keeps the generator's own event loop busy for `ms`: a self-test of saturation detection. */
  | { type: 'stall'; ms: number }
  | { type: 'stop' }
  /** The protocol every user speaks from its next connection (only before any user exists). */
  | { type: 'protocol'; name: ProtocolName; namespace?: string; keepaliveS?: number; mqttVersion?: 4 | 5 }
  /**
   * The protocol's connect payload template (Socket.IO auth,
   * graphql-ws connection_init, MQTT CONNECT fields); null clears it.
   */
  | { type: 'connect-payload'; template: string | null }
  /** `on open send TEMPLATE` (added in order), `on open off` (null: none). */
  | { type: 'on-open'; template: string | null }
  /** `session D [jitter D]`: a session's length before a normal close and a reconnect (0: forever). */
  | { type: 'session'; lifetimeMs: number; jitterMs: number }
  /** `check NAME PATH OP [VALUE]` on every message a user receives. */
  | { type: 'check'; check: CheckSpec }
  /** `users from FILE`: the file's rows, one per user round-robin (`{{row.NAME}}`); read and checked before the run. */
  | { type: 'users'; file: string; rows: Array<Record<string, string>> }
  /**
   * Values every template may name, `{{KEY}}` (`env.NAME` for `{{env.NAME}}`): filled in as a
   * user's frame or header is rendered, never shown (the answer names the keys alone).
   */
  | { type: 'template-values'; values: Record<string, string> };

/** Renders a policy the way the command language writes it. */
export function formatPolicy(policy: ReconnectPolicy): string {
  switch (policy.kind) {
    case 'off':
    case 'immediate':
      return policy.kind;
    case 'fixed':
      return `fixed ${policy.delayMs}ms`;
    case 'expo':
      return `expo ${policy.minMs}ms..${policy.maxMs}ms ${policy.jitter}`;
  }
}
