/**
 * Topics: who subscribes to what, and each topic's sequence counter, within bounds a client
 * cannot push. A topic's subscriber set goes when its last subscriber does; its counter stays
 * (so a returning subscriber sees gap-free seqs) among a bounded number of idle counters, the
 * least recently used going first.
 */
import { CLIENT_LIMITS } from './contract/wire.ts';

/** What the registry needs of a connection. */
export interface Subscriber {
  readonly topics: Set<string>;
}

/** The bounds of a registry (the server's are {@link CLIENT_LIMITS}). */
export interface TopicLimits {
  maxTopicsPerConnection: number;
  maxTopics: number;
  maxIdleTopics: number;
}

/** Why a subscription was refused. */
export type SubscribeRefusal = 'per-connection' | 'server';

/** Subscribers and sequence numbers by topic. */
export class Topics<C extends Subscriber> {
  private readonly subscribers = new Map<string, Set<C>>();
  private readonly seqs = new Map<string, number>();
  // insertion order is recency: a touched idle topic is deleted and set again
  private readonly idle = new Set<string>();

  constructor(private readonly limits: TopicLimits = CLIENT_LIMITS) {}

  /** Adds `conn` to `topic`; true when it was new, a refusal when a bound is reached. */
  subscribe(conn: C, topic: string): boolean | SubscribeRefusal {
    if (conn.topics.has(topic)) return false;
    if (conn.topics.size >= this.limits.maxTopicsPerConnection) return 'per-connection';
    let set = this.subscribers.get(topic);
    if (!set) {
      if (this.subscribers.size >= this.limits.maxTopics) return 'server';
      set = new Set();
      this.subscribers.set(topic, set);
      this.idle.delete(topic);
    }
    set.add(conn);
    conn.topics.add(topic);
    return true;
  }

  /** Removes `conn` from `topic`; true when it was subscribed. */
  unsubscribe(conn: C, topic: string): boolean {
    if (!conn.topics.delete(topic)) return false;
    this.leave(conn, topic);
    return true;
  }

  /** Removes a closed connection from every topic it had. */
  remove(conn: C): void {
    for (const topic of conn.topics) this.leave(conn, topic);
  }

  private leave(conn: C, topic: string): void {
    const set = this.subscribers.get(topic);
    if (!set) return;
    set.delete(conn);
    if (set.size === 0) {
      this.subscribers.delete(topic);
      if (this.seqs.has(topic)) this.touchIdle(topic);
    }
  }

  private touchIdle(topic: string): void {
    this.idle.delete(topic);
    this.idle.add(topic);
    if (this.idle.size <= this.limits.maxIdleTopics) return;
    const oldest = this.idle.values().next().value as string;
    this.idle.delete(oldest);
    this.seqs.delete(oldest);
  }

  /** The subscribers of a topic (do not keep it: it is the live set). */
  of(topic: string): ReadonlySet<C> | undefined {
    return this.subscribers.get(topic);
  }

  /** The last seq a topic used, 0 before its first message. */
  seqOf(topic: string): number {
    return this.seqs.get(topic) ?? 0;
  }

  /** Takes the next seq of a topic. */
  nextSeq(topic: string): number {
    const seq = this.seqOf(topic) + 1;
    this.seqs.set(topic, seq);
    if (!this.subscribers.has(topic)) this.touchIdle(topic);
    return seq;
  }

  /** How many topics have subscribers now. */
  get size(): number {
    return this.subscribers.size;
  }

  /** Counters kept now (topics with subscribers, and idle ones). */
  get counters(): number {
    return this.seqs.size;
  }

  /** Subscribers and seq of the `limit` largest topics. */
  largest(limit = 100): { subscribers: Record<string, number>; seq: Record<string, number> } {
    const top = [...this.subscribers].sort((a, b) => b[1].size - a[1].size).slice(0, limit);
    return {
      subscribers: Object.fromEntries(top.map(([topic, set]) => [topic, set.size])),
      seq: Object.fromEntries(top.map(([topic]) => [topic, this.seqOf(topic)])),
    };
  }
}
