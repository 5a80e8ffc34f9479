// Hostile input, catalog rows 1 and 6: no client frame stops the server, and no client can
// grow its per-topic state for good. Each test ends with the canary still served.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_LIMITS, DEFAULT_SERVER_CONFIG } from '../../target-server/contract/wire.ts';
import { Topics } from '../../target-server/topics.ts';
import { startCanaryServer, type CanaryServer } from '../helpers/canary.ts';
import { eventually, TestClient } from '../helpers/test-client.ts';

function nested(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

describe.each(['uws', 'ws'] as const)('hostile frames (%s engine)', (engine) => {
  let s: CanaryServer;
  beforeAll(async () => {
    s = await startCanaryServer(engine);
  });
  afterAll(() => s.stop());

  it('refuses a pub whose data nests 6,000 deep with an error frame, counts it, and keeps serving', async () => {
    const client = await TestClient.open(`${s.server.url}?topics=deep`);
    const frame = `{"t":"pub","topic":"deep","data":${nested(6000)}}`;
    expect(frame.length).toBeLessThan(DEFAULT_SERVER_CONFIG.maxPayload);
    client.send(frame);
    expect(await client.next((f) => f.t === 'error')).toMatchObject({ code: 'too-deep' });
    client.send(`{"t":"pub","topic":"deep","data":${nested(CLIENT_LIMITS.maxDataDepth - 1)}}`);
    expect(await client.next((f) => f.t === 'bcast')).toMatchObject({ topic: 'deep', seq: 1 });
    expect((await s.stats()).refused['too-deep']).toBe(1);
    expect(client.ws.readyState).toBe(1);
    await client.close();
    await s.assertAlive();
  });

  it('bounds the topics of one connection and answers the rest with too-many-topics', async () => {
    const client = await TestClient.open(s.server.url);
    const before = await s.stats();
    for (let i = 0; i < CLIENT_LIMITS.maxTopicsPerConnection + 10; i++) client.send({ t: 'sub', topic: `t${i}` });
    const errors = await client.count((f) => f.t === 'error', 10);
    expect(errors.every((f) => f.code === 'too-many-topics')).toBe(true);
    const after = await s.stats();
    expect(after.topics - before.topics).toBe(CLIENT_LIMITS.maxTopicsPerConnection);
    expect((after.refused['too-many-topics'] ?? 0) - (before.refused['too-many-topics'] ?? 0)).toBe(10);
    await client.close();
    await eventually(async () => (await s.stats()).topics === before.topics);
    await s.assertAlive();
  });

  it('frees the state of topics nobody subscribes to, and keeps their seqs gap-free for a returning subscriber', async () => {
    const churner = await TestClient.open(s.server.url);
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 50; i++) churner.send({ t: 'sub', topic: `churn-${round}-${i}` });
      for (let i = 0; i < 50; i++) churner.send({ t: 'unsub', topic: `churn-${round}-${i}` });
    }
    churner.send({ t: 'rtt', id: 'done' });
    await churner.next((f) => f.t === 'rtt');
    expect((await s.stats()).topics).toBe(1); // the canary's alone
    const subscriber = await TestClient.open(`${s.server.url}?topics=keep`);
    await s.admin.broadcast({ topic: 'keep', count: 3, size: 1 });
    await subscriber.count((f) => f.t === 'bcast', 3);
    await subscriber.close();
    await eventually(async () => (await s.stats()).subscribers.keep === undefined);
    const back = await TestClient.open(`${s.server.url}?topics=keep`);
    const sent = await s.admin.broadcast({ topic: 'keep', count: 1, size: 1 });
    expect(sent.ok && sent.value.firstSeq).toBe(4);
    expect(await back.next((f) => f.t === 'bcast')).toMatchObject({ seq: 4 });
    await Promise.all([churner.close(), back.close()]);
    await s.assertAlive();
  });

  it('answers binary and malformed frames without closing the sender', async () => {
    const client = await TestClient.open(s.server.url);
    for (const bad of [
      '',
      '[]',
      'null',
      '"x"',
      '{"t":null}',
      '{"t":"sub","topic":""}',
      `{"t":"sub","topic":"${'x'.repeat(200)}"}`,
      '{"t":"pub"}',
    ])
      client.send(bad);
    await client.count((f) => f.t === 'error', 8);
    client.ws.send(Buffer.from([1, 2, 3]));
    await eventually(() => client.frames.some((f) => Buffer.isBuffer(f)));
    expect(client.ws.readyState).toBe(1);
    await client.close();
    await s.assertAlive();
  });
});

describe('Topics', () => {
  const conn = () => ({ topics: new Set<string>() });

  it('refuses a topic beyond the server-wide bound and a subscription beyond the per-connection one', () => {
    const topics = new Topics({ maxTopicsPerConnection: 2, maxTopics: 3, maxIdleTopics: 10 });
    const a = conn();
    const b = conn();
    expect([topics.subscribe(a, 'x'), topics.subscribe(a, 'y'), topics.subscribe(a, 'z')]).toEqual([
      true,
      true,
      'per-connection',
    ]);
    expect([topics.subscribe(b, 'z'), topics.subscribe(b, 'w')]).toEqual([true, 'server']);
    expect(topics.subscribe(b, 'x')).toBe(true); // an existing topic is not a new one
    expect(topics.size).toBe(3);
  });

  it('keeps at most maxIdleTopics counters of topics nobody subscribes to, the least recently used going first', () => {
    const topics = new Topics({ maxTopicsPerConnection: 10, maxTopics: 10, maxIdleTopics: 2 });
    for (const name of ['a', 'b', 'c']) topics.nextSeq(name);
    expect(topics.counters).toBe(2);
    expect([topics.seqOf('a'), topics.seqOf('b'), topics.seqOf('c')]).toEqual([0, 1, 1]);
    const user = conn();
    topics.subscribe(user, 'b');
    topics.nextSeq('b');
    topics.unsubscribe(user, 'b');
    expect(topics.seqOf('b')).toBe(2);
    expect(topics.of('b')).toBeUndefined();
  });
});
