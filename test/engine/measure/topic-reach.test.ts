import { describe, expect, it } from 'vitest';
import { BroadcastTracker } from '../../../console/engine/measure/broadcast-tracker.ts';
import { Metrics } from '../../../console/engine/measure/metrics.ts';
import {
  MAX_TOPIC_CHARS,
  MAX_TOPICS,
  MAX_TOPICS_PER_USER,
  TopicLru,
} from '../../../console/engine/measure/topic-lru.ts';
import { TopicReach, type TopicHolder } from '../../../console/engine/measure/topic-reach.ts';

const user = (): TopicHolder => ({
  seqEntry: null,
  seqLast: 0,
  hasSeq: false,
  readyStamp: 0,
  hasReceived: false,
  moreTopics: null,
  wasCut: false,
});

/** A tracker, the accounting over it, and users, as the fleet wires them. */
function setup(count: number) {
  const tracker = new BroadcastTracker(1000);
  const metrics = new Metrics();
  const reach = new TopicReach(tracker, metrics);
  const users = Array.from({ length: count }, user);
  const receive = (u: TopicHolder, seq: number | null, at = 0, topic = 't', text = '') =>
    reach.receive(u, topic, seq, at, text, at);
  const settled = () => {
    tracker.settle(10_000, true);
    return tracker.settled;
  };
  return { tracker, metrics, reach, users, receive, settled };
}

describe('TopicLru', () => {
  it(
    'holds at most its limit, drops an entry not used since it was placed (a used one gets a second ' +
      'chance), and counts each drop',
    () => {
      const dropped: string[] = [];
      const lru = new TopicLru<number>(3, (key) => dropped.push(key));
      for (const key of ['a', 'b', 'c']) lru.set(key, 0);
      lru.get('a');
      lru.set('d', 0);
      lru.set('e', 0);
      expect(lru.size).toBe(3);
      expect(dropped).toEqual(['b', 'c']);
      expect(lru.evicted).toBe(2);
      expect(lru.get('a')).toBe(0);
    },
  );
});

describe('BroadcastTracker topics', () => {
  it(
    `keeps at most ${MAX_TOPICS} topics, counting every one dropped, and cuts a topic name to ` +
      `${MAX_TOPIC_CHARS} characters`,
    () => {
      const tracker = new BroadcastTracker();
      for (let i = 0; i < MAX_TOPICS + 500; i++) tracker.topic(`t${i}`);
      expect(tracker.topicCount).toBe(MAX_TOPICS);
      expect(tracker.topicsEvicted).toBe(500);
      expect(tracker.topic('x'.repeat(100_000)).name).toHaveLength(MAX_TOPIC_CHARS);
    },
  );

  it('numbers messages without a seq by their text, one number per distinct text and topic', () => {
    const tracker = new BroadcastTracker();
    const a = tracker.topic('a');
    const b = tracker.topic('b');
    const big = 'x'.repeat(1 << 20);
    const first = tracker.syntheticSeq(a, big);
    expect(tracker.syntheticSeq(a, Buffer.from(big))).toBe(first);
    expect(tracker.syntheticSeq(a, `${big}y`)).not.toBe(first);
    expect(tracker.syntheticSeq(b, big)).not.toBe(first);
  });
});

describe('TopicReach', () => {
  it('owes a broadcast to the users ready for its topic when it was sent, not to one that became ready after', () => {
    const { reach, users, receive, settled, tracker } = setup(4);
    const [a, b, c, late] = users as [TopicHolder, TopicHolder, TopicHolder, TopicHolder];
    for (const u of [a, b, c]) reach.ready(u, 't');
    tracker.expect('t', 1, 0);
    reach.ready(late, 't');
    for (const u of [a, b, c, late]) receive(u, 1);
    expect(settled()[0]).toMatchObject({ seq: 1, openAtSend: 3, receivers: 4, reached: 3, cut: 0, reach: 1 });
  });

  it(
    'makes a user ready at its first receipt where nothing acknowledged a subscription: the first ' +
      'broadcast it gets is not owed to the others',
    () => {
      const { users, receive, settled } = setup(3);
      for (const u of users) receive(u, 1);
      for (const u of users) receive(u, 2);
      expect(settled().map((r) => [r.seq, r.openAtSend, r.receivers, r.reach])).toEqual([
        [1, 1, 3, 1],
        [2, 3, 3, 1],
      ]);
    },
  );

  it(
    'owes a user everything sent after its subscription was acknowledged, so a broker that ' +
      'acknowledges before it delivers shows in reach',
    () => {
      const { reach, users, receive, settled, metrics } = setup(2);
      const [early, acked] = users as [TopicHolder, TopicHolder];
      receive(early, 1);
      reach.ready(acked, 't');
      receive(early, 2);
      receive(early, 3);
      receive(acked, 3);
      expect(settled().map((r) => [r.seq, r.openAtSend, r.reach])).toEqual([
        [1, 1, 1],
        [2, 2, 0.5],
        [3, 2, 1],
      ]);
      // its seqs start from the latest when it was acknowledged (1): 2 is a gap as well
      expect(metrics.totals.missed).toBe(1);
    },
  );

  it(
    'counts a user the tool cuts with a broadcast in flight as cut, owed nothing, and the seqs it ' +
      'misses while down as cut, not missed',
    () => {
      const { reach, users, receive, settled, metrics, tracker } = setup(3);
      const [a, b, victim] = users as [TopicHolder, TopicHolder, TopicHolder];
      for (const u of users) reach.ready(u, 't');
      for (const u of users) receive(u, 1);
      tracker.expect('t', 2, 0);
      receive(a, 2);
      reach.leave(victim, true);
      receive(b, 2);
      // sent while it is down: owed to the two that are ready
      receive(a, 3);
      receive(b, 3);
      reach.ready(victim, 't');
      for (const u of users) receive(u, 4);
      expect(settled().map((r) => [r.seq, r.openAtSend, r.cut, r.reach])).toEqual([
        [1, 3, 0, 1],
        [2, 2, 1, 1],
        [3, 2, 0, 1],
        [4, 3, 0, 1],
      ]);
      expect(metrics.totals).toMatchObject({ cut: 2, missed: 0, broadcastsReceived: 10 });
    },
  );

  it('leaves a broadcast owed to a user its server dropped, and counts the seqs it missed while down as missed', () => {
    const { reach, users, receive, settled, metrics, tracker } = setup(2);
    const [a, dropped] = users as [TopicHolder, TopicHolder];
    for (const u of users) reach.ready(u, 't');
    for (const u of users) receive(u, 1);
    tracker.expect('t', 2, 0);
    receive(a, 2);
    reach.leave(dropped, false);
    receive(a, 3);
    reach.ready(dropped, 't');
    for (const u of users) receive(u, 4);
    expect(settled().map((r) => [r.seq, r.openAtSend, r.reach])).toEqual([
      [1, 2, 1],
      [2, 2, 0.5],
      [3, 1, 1],
      [4, 2, 1],
    ]);
    expect(metrics.totals).toMatchObject({ cut: 0, missed: 2 });
  });

  it(
    `holds at most ${MAX_TOPICS_PER_USER} topics a user, counting those it drops, and forgets what ` +
      `it was owed of them`,
    () => {
      const { reach, users, receive, metrics, tracker } = setup(1);
      const u = users[0]!;
      for (let i = 0; i < 200; i++) reach.ready(u, `t${i}`);
      expect(1 + (u.moreTopics?.size ?? 0)).toBe(MAX_TOPICS_PER_USER);
      expect(metrics.totals.userTopicsEvicted).toBe(200 - MAX_TOPICS_PER_USER);
      expect(tracker.topic('t0').readyCount).toBe(1);
      expect(tracker.topic('t1').readyCount).toBe(0);
      expect(tracker.topic('t199').readyCount).toBe(1);
      receive(u, 5, 0, 't1');
      expect(metrics.totals.missed).toBe(0);
    },
  );
});
