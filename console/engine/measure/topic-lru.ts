/**
 * The bounds on state keyed by what a target chooses (its topic names), in one place, and the
 * least-recently-used table that holds them. A target that publishes on ever new topic names
 * must cost the generator a bounded amount: past a bound the topic seen longest ago is dropped
 * and counted, and figures on it start over if it comes back. Pure.
 */

/** Most topics the fleet tracks at once (per part): their readiness counts and pending broadcasts. */
export const MAX_TOPICS = 4096;
/** Most topics one user tracks (its last seq and readiness per topic); most users have one. */
export const MAX_TOPICS_PER_USER = 64;
/** Most broadcasts waiting to settle at once (per part); past it the oldest settles early. */
export const MAX_PENDING_BROADCASTS = 10_000;
/** Longest topic name kept whole; a longer one is cut to this many characters. */
export const MAX_TOPIC_CHARS = 256;

/** A topic name as a key: what the target sent, cut to {@link MAX_TOPIC_CHARS}. */
export function topicKey(name: string): string {
  return name.length > MAX_TOPIC_CHARS ? name.slice(0, MAX_TOPIC_CHARS) : name;
}

interface Held<V> {
  value: V;
  /** The use clock when it was placed at the back, and when it was last used. */
  placedAt: number;
  usedAt: number;
}

/**
 * A map that holds at most `limit` entries: setting one more drops one seen longest ago and
 * calls `onEvict` with it. A lookup only stamps the entry (a hot path that receives from several
 * topics in turn moves nothing); the oldest placed entry is dropped unless it was used since it
 * was placed, in which case it is placed again at the back (second chance, or CLOCK).
 */
export class TopicLru<V> {
  private readonly map = new Map<string, Held<V>>();
  private clock = 0;
  /** Entries dropped for the bound so far. */
  evicted = 0;

  constructor(
    readonly limit: number,
    private readonly onEvict: ((key: string, value: V) => void) | null = null,
  ) {}

  get size(): number {
    return this.map.size;
  }

  /** The value of `key`, marked as used. */
  get(key: string): V | undefined {
    const held = this.map.get(key);
    if (held === undefined) return undefined;
    held.usedAt = ++this.clock;
    return held.value;
  }

  /** Sets `key`; drops an entry seen longest ago past the limit. */
  set(key: string, value: V): void {
    const held = this.map.get(key);
    if (held) {
      held.value = value;
      held.usedAt = ++this.clock;
      return;
    }
    const at = ++this.clock;
    this.map.set(key, { value, placedAt: at, usedAt: at });
    while (this.map.size > this.limit) {
      const [oldest, first] = this.map.entries().next().value as [string, Held<V>];
      this.map.delete(oldest);
      if (first.usedAt > first.placedAt) {
        first.placedAt = first.usedAt = ++this.clock;
        this.map.set(oldest, first);
        continue;
      }
      this.evicted++;
      this.onEvict?.(oldest, first.value);
    }
  }

  /** Every value, oldest placed first. */
  *values(): IterableIterator<V> {
    for (const held of this.map.values()) yield held.value;
  }
}
