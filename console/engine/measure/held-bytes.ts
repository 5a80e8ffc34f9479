/**
 * The fleet's budget for bytes its users hold across frames: a packet that spans frames
 * (MQTT's), a binary event waiting for its attachments (Socket.IO's). What a target sends and
 * never finishes would otherwise stay in the generator, user by user (a half PUBLISH announcing
 * 256 MiB; attachments that never come). One budget for all the users of a fleet, and a
 * deadline for each partial packet: a frame that takes the fleet over the budget drops its own
 * user's partial packet, and a sweep drops those older than the deadline. The preset says what
 * a drop does to its user (Socket.IO skips the rest of the event; MQTT cannot resync, so the
 * user fails). The per-frame path is a Map lookup; the sweep runs only while a user holds bytes.
 */

/** A codec state's packet held across frames, as the budget reads it after every frame. */
export interface HeldPartial {
  /** Bytes held now; 0 when none. */
  heldBytes: number;
  /** When the packet held now began (`performance.now()`, ms). */
  heldSinceMs: number;
}

/** Why a partial packet was dropped: the budget was full, or it outlived the deadline. */
export type HeldCause = 'budget' | 'deadline';

/** The budget of a fleet, bytes, and how long one partial packet may be held, ms. */
export interface HeldLimits {
  budgetBytes: number;
  deadlineMs: number;
}

/** A user as the budget knows it: its codec's state holds the partial packet. */
export interface HeldOwner {
  codecState: object | null;
}

/** The budget of one fleet. */
export class HeldBytes<K extends HeldOwner> {
  /** Bytes all the users hold now: never above the budget once a frame has been taken. */
  heldBytes = 0;
  private readonly holders = new Map<K, number>();
  private sweeper: NodeJS.Timeout | null = null;

  constructor(
    readonly limits: HeldLimits,
    /** Drops `owner`'s partial packet (the codec forgets it); the budget has let go of its bytes already. */
    private readonly drop: (owner: K, cause: HeldCause) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** After each frame of a codec that holds bytes: the owner's partial packet, counted against the budget. */
  note(owner: K, partial: HeldPartial): void {
    const before = this.holders.get(owner) ?? 0;
    if (partial.heldBytes === before) return;
    if (partial.heldBytes === 0) return this.forget(owner);
    this.heldBytes += partial.heldBytes - before;
    this.holders.set(owner, partial.heldBytes);
    if (this.heldBytes > this.limits.budgetBytes) return this.dropOne(owner, 'budget');
    if (!this.sweeper) {
      // a partial packet is dropped between one and one and a quarter deadlines after it began
      this.sweeper = setInterval(() => this.sweep(), Math.max(10, Math.min(1000, this.limits.deadlineMs / 4)));
      this.sweeper.unref();
    }
  }

  /** The owner's connection is gone: what it held is no longer counted. */
  forget(owner: K): void {
    const bytes = this.holders.get(owner);
    if (bytes === undefined) return;
    if (this.holders.delete(owner)) this.heldBytes -= bytes;
    if (this.holders.size === 0) this.stop();
  }

  /** Drops every partial packet older than the deadline. */
  sweep(): void {
    const cutoff = this.now() - this.limits.deadlineMs;
    for (const owner of this.holders.keys()) {
      const partial = owner.codecState as HeldPartial | null;
      if (!partial || partial.heldSinceMs <= cutoff) this.dropOne(owner, 'deadline');
    }
  }

  /** Stops the sweep (the fleet has stopped). */
  stop(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
  }

  private dropOne(owner: K, cause: HeldCause): void {
    this.forget(owner);
    this.drop(owner, cause);
  }
}
