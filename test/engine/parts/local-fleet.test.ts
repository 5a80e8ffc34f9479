// The fleet of this process as the shell drives it, against a real `ws` server on loopback: the
// peak of open users is kept at each open, not sampled, so users opened and gone between two
// samples still count.
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { resolveOptions } from '../../../console/engine/engine-options.ts';
import type { FleetPart } from '../../../console/engine/parts/fleet-part.ts';
import { startLocalFleet } from '../../../console/engine/parts/local-fleet.ts';
import { eventually } from '../../helpers/test-client.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

/** A `ws` server on a free loopback port and a local fleet dialling it, both ended after the test. */
async function fleetAgainstServer(): Promise<FleetPart> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`;
  const part = await startLocalFleet(resolveOptions({ target: url, ratePerSec: 2000 }), {
    urls: [url],
    isDetailed: false,
  });
  cleanups.push(async () => {
    await part.stop();
    for (const client of wss.clients) client.terminate();
    await new Promise((resolve) => wss.close(resolve));
  });
  return part;
}

describe('local fleet', () => {
  it('keeps the peak of open users at each open: 100 opened and removed between two samples read peak 100 ' +
    'at open 0', async () => {
    const part = await fleetAgainstServer();
    expect((await part.sample(true)).fleet).toMatchObject({ open: 0, peakOpen: 0 });
    await part.apply({ type: 'set-target', count: 100 });
    await eventually(() => part.live().open === 100, 15_000);
    await part.apply({ type: 'set-target', count: 0 });
    await eventually(() => part.live().open === 0, 15_000);
    // no sample saw them open: the peak is the fleet's own count, not a sample's
    expect((await part.sample(true)).fleet).toMatchObject({ target: 0, open: 0, peakOpen: 100 });
    // a smaller fleet later does not lower it
    await part.apply({ type: 'set-target', count: 10 });
    await eventually(() => part.live().open === 10, 15_000);
    expect((await part.sample(true)).fleet).toMatchObject({ open: 10, peakOpen: 100 });
  }, 30_000);
});
