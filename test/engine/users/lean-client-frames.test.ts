// LeanClient reading hand-made frames off a raw TCP server on loopback: fragments, pings and frames
// split across TCP writes, and one read buffer shared by several sockets. Each must end as it does
// with `ws`.
import { describe, expect, it } from 'vitest';
import { eventually } from '../../helpers/test-client.ts';
import {
  rawServer,
  upgraded,
  frame,
  closePayload,
  dial,
  sleep,
  useRawServers,
  type Peer,
} from '../../helpers/raw-ws-server.ts';

useRawServers();

describe('LeanClient reading frames off a raw server', { timeout: 10_000 }, () => {
  it('joins 3 text fragments around a ping into one message, pongs the ping payload, and joins binary fragments', async () => {
    const server = await rawServer((p) => p.socket.write(upgraded(p)));
    const { sink } = dial(server.url);
    await sink.nth('open');
    const peer = await server.peer();
    peer.socket.write(frame(1, 'hel', { fin: false }));
    peer.socket.write(frame(0, 'lo ', { fin: false }));
    peer.socket.write(frame(9, 'ping-data'));
    peer.socket.write(frame(0, 'wörld'));
    const message = await sink.nth('message');
    expect([message.data.toString(), message.isBinary]).toEqual(['hello wörld', false]);
    const pong = await eventually(() => peer.frames[0]);
    expect(pong).toMatchObject({ fin: true, opcode: 10, masked: true });
    expect(pong.payload.toString()).toBe('ping-data');
    peer.socket.write(Buffer.concat([frame(2, Buffer.from([1, 2]), { fin: false }), frame(0, Buffer.from([3]))]));
    const binary = await sink.nth('message', 2);
    expect([[...binary.data], binary.isBinary]).toEqual([[1, 2, 3], true]);
    expect(sink.kinds()).toEqual(['open', 'message', 'message']);
  });

  it('hears close 4403 "nope" and echoes a masked close frame with the code and reason, as ws does', async () => {
    const server = await rawServer((p) => p.socket.write(upgraded(p)));
    const { sink } = dial(server.url);
    await sink.nth('open');
    const peer = await server.peer();
    peer.socket.write(frame(8, closePayload(4403, 'nope')));
    const closed = await sink.nth('close');
    expect([closed.code, closed.reason.toString()]).toEqual([4403, 'nope']);
    expect(sink.kinds()).toEqual(['open', 'close']);
    const echo = await eventually(() => peer.frames[0]);
    expect([echo.opcode, echo.masked, echo.payload.readUInt16BE(0)]).toEqual([8, true, 4403]);
    // ws echoes the reason too (receiverOnConclude calls close(code, reason))
    expect(echo.payload.subarray(2).toString()).toBe('nope');
  });

  it('reads frames written one byte at a time, and the 101 with a frame in the same write', async () => {
    const text = 'x'.repeat(200);
    const server = await rawServer(async (p) => {
      p.socket.write(Buffer.concat([Buffer.from(upgraded(p)), frame(1, 'first')]));
      for (const byte of Buffer.concat([frame(1, text), frame(2, Buffer.from([9, 8, 7]))])) {
        await sleep(1);
        if (p.socket.destroyed) return;
        p.socket.write(Buffer.from([byte]));
      }
    });
    const { sink } = dial(server.url);
    await sink.nth('message', 3);
    expect(sink.of('message').map((m) => [m.isBinary ? [...m.data] : m.data.toString(), m.isBinary])).toEqual([
      ['first', false],
      [text, false],
      [[9, 8, 7], true],
    ]);
    expect(sink.of('error')).toEqual([]);
  });

  it('reads two frames and half a third in one write, and a 64-bit frame split inside its header', async () => {
    const big = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) & 0xff));
    const third = frame(1, 'third, in two halves');
    const large = frame(2, big);
    const server = await rawServer(async (p) => {
      p.socket.write(upgraded(p));
      await sleep(20);
      p.socket.write(Buffer.concat([frame(1, 'one'), frame(2, Buffer.alloc(200, 5)), third.subarray(0, 9)]));
      await sleep(20);
      p.socket.write(third.subarray(9));
      await sleep(20);
      for (const [from, to] of [
        [0, 3],
        [3, 10],
        [10, 30_000],
        [30_000, large.length],
      ] as const) {
        p.socket.write(large.subarray(from, to));
        await sleep(10);
      }
    });
    const { sink } = dial(server.url);
    await sink.nth('message', 4);
    const messages = sink.of('message');
    expect(
      messages.slice(0, 3).map((m) => [m.isBinary ? m.data.toString('hex') : m.data.toString(), m.isBinary]),
    ).toEqual([
      ['one', false],
      [Buffer.alloc(200, 5).toString('hex'), true],
      ['third, in two halves', false],
    ]);
    expect(messages[3]!.isBinary).toBe(true);
    expect(messages[3]!.data.equals(big)).toBe(true);
    expect(sink.of('error')).toEqual([]);
  });
});

describe('LeanClient sharing one read buffer between sockets', { timeout: 10_000 }, () => {
  it('keeps a half-read frame and a pending fragment of one socket intact while another socket reads in between', async () => {
    const peers: Peer[] = [];
    const server = await rawServer((p) => {
      p.socket.write(upgraded(p));
      peers.push(p);
    });
    const a = dial(server.url).sink;
    await a.nth('open');
    const b = dial(server.url).sink;
    await b.nth('open');
    const [pa, pb] = peers as [Peer, Peer];
    const framed = frame(1, `a:${'y'.repeat(300)}`);
    const other = Buffer.from(Array.from({ length: 50_000 }, (_, i) => (i * 13) & 0xff));
    // A: a message in two fragments and the first fragment of another; B then fills the shared
    // buffer; A: the last fragment and half a frame; B again; then the rest of A's frame
    pa.socket.write(
      Buffer.concat([frame(1, 'frag-', { fin: false }), frame(0, 'ment'), frame(1, 'part-', { fin: false })]),
    );
    await a.nth('message');
    pb.socket.write(frame(2, other));
    await b.nth('message');
    pa.socket.write(Buffer.concat([frame(0, 'ial'), framed.subarray(0, 120)]));
    await a.nth('message', 2);
    pb.socket.write(frame(1, 'b-text'));
    await b.nth('message', 2);
    pa.socket.write(framed.subarray(120));
    await a.nth('message', 3);
    expect(a.of('message').map((m) => m.data.toString())).toEqual(['frag-ment', 'part-ial', `a:${'y'.repeat(300)}`]);
    expect(b.of('message')[0]!.data.equals(other)).toBe(true);
    expect(b.of('message')[1]!.data.toString()).toBe('b-text');
  });
});
