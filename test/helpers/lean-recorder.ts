import type { SocketSink } from '../../console/engine/users/lean-client.ts';
import { eventually } from './test-client.ts';

export type SinkEvent =
  | { kind: 'open' }
  | { kind: 'message'; data: Buffer; isBinary: boolean }
  | { kind: 'error'; error: Error & { code?: string } }
  | { kind: 'close'; code: number; reason: Buffer };

/** A sink that keeps every event in order and lets a test wait for the nth of a kind. */
export class Recorder implements SocketSink {
  readonly events: SinkEvent[] = [];
  socketOpen(): void {
    this.events.push({ kind: 'open' });
  }
  socketMessage(data: Buffer, isBinary: boolean): void {
    this.events.push({ kind: 'message', data: Buffer.from(data), isBinary });
  }
  socketError(error: Error & { code?: string }): void {
    this.events.push({ kind: 'error', error });
  }
  socketClose(code: number, reason: Buffer): void {
    this.events.push({ kind: 'close', code, reason: Buffer.from(reason) });
  }
  of<K extends SinkEvent['kind']>(kind: K): Array<Extract<SinkEvent, { kind: K }>> {
    return this.events.filter((event): event is Extract<SinkEvent, { kind: K }> => event.kind === kind);
  }
  nth<K extends SinkEvent['kind']>(kind: K, n = 1): Promise<Extract<SinkEvent, { kind: K }>> {
    return eventually(() => this.of(kind)[n - 1], 5000, 5);
  }
  kinds(): string[] {
    return this.events.map((event) => event.kind);
  }
}
