/**
 * What a user may hold unsent: a target that stops reading fills the kernel's buffers, then the
 * connection's own, and every send after that would grow the generator without bound. Each
 * send is held to a per-user budget of unsent bytes: over it, the send is dropped and counted
 * (`send.dropped`). Protocol control frames (pongs, PUBACKs, keepalives, a protocol's connect
 * sequence) get twice the room, so a slow reader loses application messages first and the
 * conversation that keeps the connection alive last.
 */
import type { Totals } from '../measure/metrics.ts';

/** One fleet's send budget; `admits` is on the per-send path: compare, count, return. */
export class SendBudget {
  constructor(
    /** Most bytes a user may hold unsent before its messages are dropped. */
    readonly bufferBytes: number,
    private readonly totals: Pick<Totals, 'sendDropped'>,
  ) {}

  /** Whether a frame may join a connection holding `bufferedBytes` unsent; a refusal is counted. */
  admits(bufferedBytes: number, isControl: boolean): boolean {
    if (bufferedBytes < (isControl ? 2 * this.bufferBytes : this.bufferBytes)) return true;
    this.totals.sendDropped++;
    return false;
  }
}
