/**
 * What each user is owed of each topic, and what it did not get. A user is ready for a topic
 * from its subscription's acknowledgement (MQTT SUBACK), from its open for the topics it names at
 * the upgrade (the bundled server's `?topics=`), or else from its first receipt of the topic;
 * from then on it is owed every broadcast of the topic. When it leaves `open`, a cut by the tool
 * (kill, session end, remove, stop) counts what was in flight to it as `cut`, and the seqs it
 * then did not see while down are `cut` too; any other drop leaves them owed (lower reach, and
 * `missed` once a later seq shows the gap). The fleet calls it; it counts into the totals.
 */
import type { BroadcastTracker, TopicEntry } from './broadcast-tracker.ts';
import type { Metrics } from './metrics.ts';
import { MAX_TOPICS_PER_USER, TopicLru } from './topic-lru.ts';

/** A user's state for one topic. */
export interface UserTopic {
  /** The topic; null before the user has one. */
  seqEntry: TopicEntry | null;
  /** The last seq it received (or was cut from). */
  seqLast: number;
  hasSeq: boolean;
  /** The tracker's stamp when it became ready for the topic on this connection; 0: not ready. */
  readyStamp: number;
  /** Whether it received the topic since it became ready. */
  hasReceived: boolean;
}

/**
 * What a user holds of its topics: the first in its own fields (most runs have one topic, and a
 * table per user would cost about 200 B each), others in a table bounded by {@link MAX_TOPICS_PER_USER}.
 */
export interface TopicHolder extends UserTopic {
  moreTopics: TopicLru<UserTopic> | null;
  /** Whether its last connection was cut by the tool: seqs it then did not see are cut, not missed. */
  wasCut: boolean;
}

function reset(slot: UserTopic, entry: TopicEntry): void {
  slot.seqEntry = entry;
  slot.seqLast = 0;
  slot.hasSeq = false;
  slot.readyStamp = 0;
  slot.hasReceived = false;
}

/** The fleet's per-user broadcast accounting. */
export class TopicReach {
  private readonly onUserEvict: (key: string, slot: UserTopic) => void;

  constructor(
    private readonly tracker: BroadcastTracker,
    private readonly metrics: Metrics,
  ) {
    this.onUserEvict = (_, slot) => {
      const entry = slot.seqEntry!;
      if (slot.readyStamp > 0) entry.readyCount--;
      if (!entry.isEvicted) metrics.totals.userTopicsEvicted++;
    };
  }

  /** The user's state for a topic, made when it has none (its least recently used may go). */
  private slot(user: TopicHolder, entry: TopicEntry): UserTopic {
    const first = user.seqEntry;
    if (first === entry) return user;
    // a topic the fleet's table dropped is forgotten: its place is free
    if (first === null || first.isEvicted) {
      reset(user, entry);
      return user;
    }
    user.moreTopics ??= new TopicLru<UserTopic>(MAX_TOPICS_PER_USER - 1, this.onUserEvict);
    let slot = user.moreTopics.get(entry.name);
    if (slot && slot.seqEntry !== entry) reset(slot, entry);
    if (!slot) {
      slot = { seqEntry: entry, seqLast: 0, hasSeq: false, readyStamp: 0, hasReceived: false };
      user.moreTopics.set(entry.name, slot);
    }
    return slot;
  }

  /**
   * The user is ready for a topic from now (a subscription acknowledged, a topic named at the
   * upgrade). On its first connection its seqs start from the topic's latest: a gap after that is missed.
   */
  ready(user: TopicHolder, topic: string): void {
    const entry = this.tracker.topic(topic);
    const slot = this.slot(user, entry);
    if (slot.readyStamp > 0) return;
    slot.readyStamp = this.tracker.readyStamp;
    entry.readyCount++;
    if (!slot.hasSeq && !Number.isNaN(entry.latestSeq)) {
      slot.seqLast = entry.latestSeq;
      slot.hasSeq = true;
    }
  }

  /**
   * Hot path: an open user received `seq` of `topic` (`seq` null: the target numbers nothing, and
   * each distinct message gets a number); `tsMs` is the server's send time, if it gives one.
   */
  receive(
    user: TopicHolder,
    topic: string,
    seq: number | null,
    tsMs: number | null,
    data: Buffer | string,
    at: number,
  ): void {
    const tracker = this.tracker;
    const totals = this.metrics.totals;
    totals.broadcastsReceived++;
    const entry = tracker.topic(topic);
    if (seq !== null && !(seq <= entry.latestSeq)) entry.latestSeq = seq;
    const n = seq ?? tracker.syntheticSeq(entry, data);
    const slot = this.slot(user, entry);
    if (slot.readyStamp === 0) {
      slot.readyStamp = tracker.readyStamp;
      entry.readyCount++;
    }
    if (seq !== null && slot.hasSeq && seq > slot.seqLast + 1) {
      const gap = seq - slot.seqLast - 1;
      if (!slot.hasReceived && user.wasCut) totals.cut += gap;
      else totals.missed += gap;
    }
    slot.hasReceived = true;
    if (!slot.hasSeq || n > slot.seqLast) {
      slot.seqLast = n;
      slot.hasSeq = true;
    }
    this.metrics.record('fanout', tracker.receive(entry, n, tsMs === null ? null : at - tsMs, at, slot.readyStamp));
  }

  /**
   * The user left `open`: `isCut` when the tool ended it (a kill, a
   * session end, a removal, the stop, the bundled server's kill).
   */
  leave(user: TopicHolder, isCut: boolean): void {
    user.wasCut = isCut;
    this.leaveTopic(user, isCut);
    if (user.moreTopics) for (const slot of user.moreTopics.values()) this.leaveTopic(slot, isCut);
  }

  private leaveTopic(slot: UserTopic, isCut: boolean): void {
    const entry = slot.seqEntry;
    if (!entry) return;
    if (slot.readyStamp > 0) {
      entry.readyCount--;
      const cut = isCut ? this.tracker.cut(entry, slot.hasSeq ? slot.seqLast : null, slot.readyStamp) : null;
      if (cut && cut.count > 0) {
        this.metrics.totals.cut += cut.count;
        // the seqs up to those are accounted for: a gap after them is what it missed while down
        slot.seqLast = slot.hasSeq ? Math.max(slot.seqLast, cut.lastSeq) : cut.lastSeq;
        slot.hasSeq = true;
      }
    }
    slot.readyStamp = 0;
    slot.hasReceived = false;
  }
}
