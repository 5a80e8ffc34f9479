/**
 * A bounded storm of random and malformed traffic at a bundled server: WebSocket clients that
 * send every kind of frame (valid ops, nesting, garbage, binary, oversized, invalid UTF-8) and
 * reconnect when the server cuts them, and admin callers that send every kind of request
 * (valid, invalid, oversized, unauthorised). Seeded, so a failure can be replayed. Used by the
 * fuzz test (seconds) and `npm run bench -- soak` (minutes).
 */
import WebSocket from 'ws';

/** Where the storm goes: a bundled server's URLs and token. */
export interface StormTarget {
  url: string;
  adminUrl: string;
  token: string;
}

/** What the storm did. */
export interface StormResult {
  frames: number;
  adminRequests: number;
  reconnects: number;
  /** Admin answers by status. */
  statuses: Record<string, number>;
}

/** A small seeded PRNG (mulberry32): the same seed gives the same storm. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function randomText(random: () => number, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += String.fromCharCode(32 + Math.floor(random() * 95));
  return out;
}

function randomFrame(random: () => number): [data: string | Buffer, isBinary: boolean] {
  const topic = `f${Math.floor(random() * 1_000_000)}`;
  const depth = 1 + Math.floor(random() * 200);
  const text = (data: string): [string, boolean] => [data, false];
  const kinds: Array<() => [string | Buffer, boolean]> = [
    () => text(JSON.stringify({ t: 'rtt', id: Math.floor(random() * 1e9), at: Date.now() })),
    () => text(JSON.stringify({ t: 'sub', topic })),
    () => text(JSON.stringify({ t: 'unsub', topic })),
    () => text(JSON.stringify({ t: 'pub', topic, data: { n: random(), s: randomText(random, 20) } })),
    () => text(`{"t":"pub","topic":"${topic}","data":${'['.repeat(depth)}${']'.repeat(depth)}}`),
    () => text(randomText(random, Math.floor(random() * 200))),
    () => text(`{"t":"${pick(random, ['sub', 'pub', 'unsub', 'x'])}","topic":`),
    () =>
      text(
        JSON.stringify({
          t: pick(random, ['sub', 'unsub', 'pub']),
          topic: pick(random, ['', 'x'.repeat(300), 7, null]),
        }),
      ),
    () => [Buffer.from(Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256))), true],
    () => text('x'.repeat(70 * 1024)), // over maxPayload: the server cuts us
    () => [Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), false], // invalid UTF-8 in a text frame: the server cuts us
  ];
  return pick(random, kinds)();
}

function randomAdminCall(
  random: () => number,
  token: string,
): { method: string; path: string; body?: string; headers: Record<string, string> } {
  const auth = random() < 0.9 ? { authorization: `Bearer ${token}` } : { authorization: 'Bearer wrong' };
  const knob = pick(random, [
    'workMs',
    'fanout',
    'compression',
    'maxPayload',
    'idleTimeout',
    'maxBackpressure',
    'rejectPercent',
    'acceptDelayMs',
    '__proto__',
    'nope',
  ]);
  const value = pick(random, [0, 1, 2, -1, 5, 7, 9, 1e12, 'loop', 'batched', 'publish', true, null, 'x', { a: 1 }]);
  const calls = [
    { method: 'GET', path: '/stats' },
    { method: 'GET', path: '/healthz' },
    { method: 'GET', path: pick(random, ['/nope', '/', '/stats/x', '/%00']) },
    {
      method: 'POST',
      path: '/broadcast',
      body: JSON.stringify({
        topic: pick(random, ['fz', 'all', '', 'x'.repeat(200)]),
        count: pick(random, [1, 5, 50, 0, -1, 1e9, 'x']),
        size: pick(random, [0, 16, 4096, 1e9]),
      }),
    },
    // workMs stays small and kills hit nobody: the storm must not take the canary down by design
    {
      method: 'PUT',
      path: '/config',
      body: JSON.stringify({
        [knob]: knob === 'workMs' && typeof value === 'number' && value > 2 ? 1 : knob === 'rejectPercent' ? 0 : value,
      }),
    },
    {
      method: 'POST',
      path: '/kill',
      body: JSON.stringify({
        percent: pick(random, [0, -5, 150, 'x', null]),
        mode: pick(random, ['close', 'reset', 'boom']),
      }),
    },
    { method: 'POST', path: '/broadcast', body: '{broken' },
    { method: 'PUT', path: '/config', body: `{"workMs":0,"pad":"${'x'.repeat(70 * 1024)}"}` },
  ];
  return { ...pick(random, calls), headers: { ...auth, 'content-type': 'application/json' } };
}

/** Runs the storm for `durationMs` with `clients` WebSocket clients and `adminCallers` admin callers. */
export async function runStorm(
  target: StormTarget,
  options: { clients: number; adminCallers: number; durationMs: number; seed: number; frameEveryMs?: number },
): Promise<StormResult> {
  const random = prng(options.seed);
  const result: StormResult = { frames: 0, adminRequests: 0, reconnects: 0, statuses: {} };
  const until = Date.now() + options.durationMs;
  const sockets = new Set<WebSocket>();
  const timers: NodeJS.Timeout[] = [];

  const connect = (): void => {
    if (Date.now() >= until) return;
    const ws = new WebSocket(`${target.url}?topics=fz`);
    sockets.add(ws);
    ws.on('error', () => {});
    ws.on('message', () => {});
    ws.on('close', () => {
      sockets.delete(ws);
      if (Date.now() < until) {
        result.reconnects++;
        setTimeout(connect, 50);
      }
    });
  };
  for (let i = 0; i < options.clients; i++) connect();
  timers.push(
    setInterval(() => {
      for (const ws of sockets) {
        if (ws.readyState !== WebSocket.OPEN) continue;
        const [data, isBinary] = randomFrame(random);
        ws.send(data, { binary: isBinary });
        result.frames++;
      }
    }, options.frameEveryMs ?? 20),
  );

  const caller = async (): Promise<void> => {
    while (Date.now() < until) {
      const call = randomAdminCall(random, target.token);
      try {
        const response = await fetch(`${target.adminUrl}${call.path}`, {
          method: call.method,
          headers: call.headers,
          body: call.body,
          signal: AbortSignal.timeout(5000),
        });
        await response.arrayBuffer();
        result.statuses[response.status] = (result.statuses[response.status] ?? 0) + 1;
      } catch (error) {
        const key = `error:${(error as Error).name}`;
        result.statuses[key] = (result.statuses[key] ?? 0) + 1;
      }
      result.adminRequests++;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  await Promise.all(Array.from({ length: options.adminCallers }, caller));
  for (const timer of timers) clearInterval(timer);
  for (const ws of sockets) ws.terminate();
  // put back what the storm may have turned
  await fetch(`${target.adminUrl}/config`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${target.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ workMs: 0, fanout: 'publish', rejectPercent: 0, acceptDelayMs: 0 }),
  });
  return result;
}
