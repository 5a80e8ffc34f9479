// Catalog row 8: the interactive console stays flat over a long session. Driven as in its
// own tests (the real renderer, a real engine and bundled server), with snapshots five times
// a second so a minute here is five of a real session; React runs its development build, the
// one whose timeline entries once grew the console until Node ran out of memory.
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { eventually } from '../helpers/test-client.ts';

// React records renders in the timeline only where console.timeStamp exists, as in Node;
// vitest's console lacks it, so it is put back before React loads
(console as { timeStamp?: () => void }).timeStamp ??= () => {};
const { render } = await import('ink-testing-library');
const { createEngine } = await import('../../console/engine/engine.ts');
const { ConsoleSession } = await import('../../console/script/console-session.ts');
const { App } = await import('../../console/ui/app.tsx');

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// the least heap after a full GC over two seconds: what the console keeps, not what it
// is about to let go (it clears the timeline every second)
async function heapAfterGc(): Promise<number> {
  let least = Infinity;
  for (let i = 0; i < 8; i++) {
    gc();
    least = Math.min(least, process.memoryUsage().heapUsed);
    await sleep(250);
  }
  return least;
}

describe('a long console session', () => {
  it('grows its heap by less than 16 MiB over a minute of idling and add/kill/broadcast cycles', async () => {
    const engine = await createEngine({ ratePerSec: 5000, snapshotIntervalMs: 200 });
    const view = render(<App engine={engine} session={new ConsoleSession(engine)} onQuit={() => {}} />);
    try {
      const cycle = async () => {
        view.stdin.write('+');
        await eventually(() => engine.live().open === 100, 10_000);
        view.stdin.write('b');
        await sleep(300);
        view.stdin.write('k');
        await sleep(50);
        view.stdin.write('y');
        await eventually(() => engine.live().isRecovered && engine.live().open === 100, 10_000);
        view.stdin.write('-');
        await eventually(() => engine.live().open === 0, 10_000);
      };
      // warm-up: every panel has rendered every kind of figure; both measurements are taken
      // after 12 s idle, when the sparkline history (60 snapshots) holds the same idle seconds
      for (let i = 0; i < 3; i++) await cycle();
      await sleep(12_000);
      const warm = await heapAfterGc();
      const until = performance.now() + 60_000;
      let cycles = 0;
      while (performance.now() < until) {
        await sleep(8000); // idle
        await cycle();
        cycles++;
      }
      await sleep(12_000);
      const after = await heapAfterGc();
      expect(cycles).toBeGreaterThanOrEqual(4);
      expect(view.lastFrame()).toContain('Generator');
      expect(performance.getEntriesByType('measure').length).toBeLessThan(2000);
      // the leak this guards against grew the heap about 4 MB a second, 240 MiB over this minute.
      // A healthy heap after GC moves by several MiB with what is warm when it is read (alone:
      // 25.6 -> 27.6 and 30.9 -> 27.6 MiB; in a loaded suite 31.2 -> 41.2 once), so a ratio to
      // the warm-up reading was noise; the line is an absolute growth of 16 MiB over the minute
      const grownMiB = (after - warm) / 1048576;
      expect(
        grownMiB,
        `heap ${(warm / 1048576).toFixed(1)} MiB after warm-up, ${(after / 1048576).toFixed(1)} MiB ` +
          `after ${cycles} cycles`,
      ).toBeLessThan(16);
    } finally {
      view.unmount();
      await engine.stop();
    }
  }, 180_000);
});
