// A target that stops reading: a real `ws` server on loopback pauses every socket it accepts, so
// what users send fills the kernel's buffers and then the connections' own. Each user must hold
// no more than its send budget unsent (twice it for pongs and protocol replies), and every send
// refused over it is counted. Both clients: the lean one, and `ws` (chosen by compression).
import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { BroadcastTracker } from '../../../console/engine/measure/broadcast-tracker.ts';
import { resolveOptions } from '../../../console/engine/engine-options.ts';
import { Fleet } from '../../../console/engine/parts/fleet.ts';
import { clientOptions } from '../../../console/engine/parts/local-fleet.ts';
import { Metrics } from '../../../console/engine/measure/metrics.ts';
import { RecoveryTracker } from '../../../console/engine/measure/recovery.ts';
import { SendBudget } from '../../../console/engine/users/send-budget.ts';
import type { VirtualUser } from '../../../console/engine/users/virtual-user.ts';
import { eventually } from '../../helpers/test-client.ts';

const BUDGET = 64 * 1024;
const CHUNK = 'x'.repeat(16 * 1024);
// far more than the kernel holds for one loopback connection (a few MiB): without a budget, this
// much would sit in the user's own buffer
const OFFERED_MAX_BYTES = 48 * 1024 * 1024;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A ws server on 127.0.0.1:0 that never reads what it is sent; it keeps its peers to ping them. */
async function nonReader(): Promise<{ url: string; peers: WebSocket[] }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  const peers: WebSocket[] = [];
  wss.on('connection', (ws) => {
    ws.on('error', () => {});
    (ws as unknown as { _socket: net.Socket })._socket.pause();
    peers.push(ws);
  });
  await new Promise((resolve) => wss.once('listening', resolve));
  cleanups.push(async () => {
    for (const ws of wss.clients) ws.terminate();
    await new Promise((resolve) => wss.close(resolve));
  });
  return { url: `ws://127.0.0.1:${(wss.address() as net.AddressInfo).port}/`, peers };
}

async function openFleet(
  url: string,
  users: number,
  compression: boolean,
): Promise<{ fleet: Fleet; metrics: Metrics }> {
  const options = resolveOptions({ target: url, compression, sendBufferBytes: BUDGET, localAddresses: ['127.0.0.1'] });
  const metrics = new Metrics();
  const fleet = new Fleet(
    {
      urls: [url],
      protocols: [],
      clientOptions: clientOptions(options),
      ratePerSec: 10_000,
      maxInFlight: 100,
      localAddresses: options.localAddresses,
      framePaths: null,
      handshakeTimeoutMs: 5000,
      isBundled: false,
      held: { budgetBytes: options.heldBudgetBytes, deadlineMs: options.heldDeadlineMs },
      sendBudget: new SendBudget(options.sendBufferBytes, metrics.totals),
    },
    metrics,
    new RecoveryTracker(false),
    new BroadcastTracker(5000, 500, false),
  );
  cleanups.push(() => fleet.stop(100));
  fleet.setTarget(users);
  await eventually(() => {
    fleet.tick(performance.now());
    return fleet.counts.open === users;
  }, 10_000);
  return { fleet, metrics };
}

/**
 * Sends 16 KiB messages from `vu` until one is refused (yielding
 * so the kernel can take what it will); returns how many went.
 */
async function fillUntilRefused(fleet: Fleet, vu: VirtualUser): Promise<{ sent: number; isRefused: boolean }> {
  let sent = 0;
  while (sent * CHUNK.length < OFFERED_MAX_BYTES) {
    if (fleet.sendMessage(vu, CHUNK) === 0) return { sent, isRefused: true };
    if (++sent % 16 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  return { sent, isRefused: false };
}

const buffered = (vu: VirtualUser): number => vu.ws!.bufferedAmount;

describe.each([
  { client: 'the lean client', compression: false },
  { client: 'ws (compression offered)', compression: true },
])('the send budget, with $client', ({ compression }) => {
  it('holds each user to its budget unsent against a server that stops reading, and counts every refused send', async () => {
    const server = await nonReader();
    const { fleet, metrics } = await openFleet(server.url, 3, compression);
    let refusedAfterFull = 0;
    for (const vu of fleet.openUsers()) {
      const { isRefused } = await fillUntilRefused(fleet, vu);
      expect(isRefused).toBe(true);
      // what the user holds is under its budget plus the one message that crossed it
      expect(buffered(vu)).toBeGreaterThanOrEqual(BUDGET);
      expect(buffered(vu)).toBeLessThan(BUDGET + CHUNK.length + 16);
      // once full, every further message and probe is refused, and counted
      for (let i = 0; i < 20; i++)
        refusedAfterFull += fleet.sendMessage(vu, CHUNK) === 0 && vu.send('{"t":"rtt"}') === 0 ? 2 : 0;
      expect(buffered(vu)).toBeLessThan(BUDGET + CHUNK.length + 16);
    }
    expect(refusedAfterFull).toBe(3 * 20 * 2);
    // the three refusals that found each user full, and the 120 after them
    expect(metrics.totals.sendDropped).toBe(3 + refusedAfterFull);
  });

  it('keeps room for pongs and protocol replies past the budget, up to twice it, then drops them too', async () => {
    const server = await nonReader();
    const { fleet, metrics } = await openFleet(server.url, 1, compression);
    const [vu] = fleet.openUsers();
    expect((await fillUntilRefused(fleet, vu!)).isRefused).toBe(true);
    const droppedWhenFull = metrics.totals.sendDropped;
    // a control frame still goes where a message no longer does
    expect(vu!.sendFrames([CHUNK], true)).toBe(CHUNK.length);
    expect(vu!.sendFrames([CHUNK])).toBe(0);
    // the server pings far past the control room: the user answers while there is room, then stops
    const pings = 4000;
    const payload = Buffer.alloc(100, 1);
    for (let i = 0; i < pings; i++) server.peers[0]!.ping(payload);
    await eventually(() => metrics.totals.sendDropped >= droppedWhenFull + 1 + pings / 2, 10_000);
    expect(buffered(vu!)).toBeGreaterThanOrEqual(BUDGET);
    expect(buffered(vu!)).toBeLessThan(2 * BUDGET + CHUNK.length + 16);
  });
});
