import WebSocket from 'ws';

/** Waits, to let sockets and counters settle between phases. */
export function settle(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Opens `count` plain `ws` clients with at most `inFlight` handshakes pending. */
export async function connectMany(
  url: string,
  count: number,
  inFlight: number,
  setup: (ws: WebSocket) => void,
): Promise<WebSocket[]> {
  const open: WebSocket[] = [];
  let started = 0;
  let failed = 0;
  await new Promise<void>((resolve) => {
    const next = (): void => {
      if (open.length + failed === count) return resolve();
      if (started >= count) return;
      started++;
      const ws = new WebSocket(url, { perMessageDeflate: false });
      setup(ws);
      ws.once('open', () => {
        open.push(ws);
        next();
      });
      ws.once('error', () => {
        failed++;
        next();
      });
    };
    for (let i = 0; i < Math.min(inFlight, count); i++) next();
  });
  if (failed > 0) console.error(`  ${failed} of ${count} connections failed`);
  return open;
}
