import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../console/engine/engine.ts';
import { ConsoleSession } from '../../console/script/console-session.ts';
import { parseScript } from '../../console/script/parse.ts';
import { runScript } from '../../console/script/runner.ts';
import { App } from '../../console/ui/app.tsx';
import { eventually } from '../helpers/test-client.ts';
import { renderInTerminal } from './fake-terminal.ts';

let engine: Engine | null = null;
afterEach(async () => {
  await engine?.stop();
  engine = null;
});

async function startApp() {
  engine = await createEngine({ ratePerSec: 5000, snapshotIntervalMs: 200 });
  const session = new ConsoleSession(engine);
  let quits = 0;
  const view = render(
    <App
      engine={engine}
      session={session}
      onQuit={() => {
        quits++;
      }}
    />,
  );
  return { view, session, quits: () => quits };
}

const tick = (ms = 50) => new Promise((resolve) => setTimeout(resolve, ms));

describe('console App (real engine, bundled server)', () => {
  it('renders every panel and grows and shrinks the fleet with + and -', async () => {
    const { view } = await startApp();
    for (const title of ['Fleet', 'Latency', 'Throughput', 'Errors', 'Recovery', 'Server', 'Generator'])
      expect(view.lastFrame()).toContain(title);
    view.stdin.write('+');
    await eventually(() => engine!.live().open === 100, 10_000);
    view.stdin.write('-');
    await eventually(() => engine!.live().target === 0, 5000);
    view.stdin.write('+');
    await eventually(() => view.lastFrame()!.includes('open 100/100'), 10_000);
    view.unmount();
  });

  it('asks before it kills, and kills 20% only on y', async () => {
    const { view } = await startApp();
    view.stdin.write('+');
    await eventually(() => engine!.live().open === 100, 10_000);
    view.stdin.write('k');
    await eventually(() => view.lastFrame()!.includes('Kill 20% of 100 open VUs'), 2000);
    view.stdin.write('n');
    await tick(200);
    expect(engine!.getSnapshot().totals.killed).toBe(0);
    view.stdin.write('k');
    await tick();
    view.stdin.write('y');
    await eventually(() => engine!.getSnapshot().totals.killed === 20, 5000);
    await eventually(() => view.lastFrame()!.includes('kill 20% reset -20'), 5000);
    view.unmount();
  });

  it('runs a typed command line, and reports an unknown command without stopping anything', async () => {
    const { view } = await startApp();
    view.stdin.write(':vus 30');
    await tick();
    view.stdin.write('\r');
    await eventually(() => engine!.live().open === 30, 10_000);
    view.stdin.write(':explode 5');
    await tick();
    view.stdin.write('\r');
    await eventually(() => view.lastFrame()!.includes('unknown command "explode"'), 2000);
    view.stdin.write(':wait 5s\r');
    await eventually(() => view.lastFrame()!.includes('belongs in scripts'), 2000);
    expect(engine!.live().open).toBe(30);
    view.unmount();
  });

  it('holds a typed ramp at its knee, and saves a script that runScript replays to the same open count', async () => {
    engine = await createEngine({ ratePerSec: 5000, snapshotIntervalMs: 200 });
    const session = new ConsoleSession(engine);
    const view = renderInTerminal(<App engine={engine} session={session} onQuit={() => {}} />, 80, 24);
    const dir = mkdtempSync(join(tmpdir(), 'sockstorm-console-'));
    try {
      view.write(':ramp 400 over 4s until connect.p99 > 300ms\r');
      await eventually(() => engine!.live().open >= 60, 10_000);
      // the server starts to accept slowly: the next interval's connect p99 crosses the limit
      view.write(':server acceptDelayMs 500\r');
      await eventually(() => view.lastFrame().includes('knee: '), 10_000);
      const knee = engine.live().target;
      expect(knee).toBeGreaterThanOrEqual(60);
      expect(knee).toBeLessThan(400);
      expect(view.lastFrame()).toContain(`knee: ${knee} open before connect.p99`);
      view.write(':server acceptDelayMs 0\r');
      await eventually(() => view.lastFrame().includes('server acceptDelayMs = 0\n'), 5000);
      await eventually(() => engine!.live().open === knee, 10_000);
      await tick(500); // the session holds its end state a while before the save
      const file = join(dir, 'session.storm');
      view.write(`:save ${file}\r`);
      await eventually(() => view.lastFrame().includes('saved 4 commands to '), 5000);
      const script = readFileSync(file, 'utf8');
      expect(
        script
          .split('\n')
          .slice(1)
          .filter((line) => !line.startsWith('wait ')),
      ).toEqual([
        'ramp 400 over 4s  # until connect.p99 > 300ms',
        'server acceptDelayMs 500',
        `vus ${knee}  # the knee: ${/the knee: (.*)/.exec(script)![1]}`,
        'server acceptDelayMs 0',
        '',
      ]);
      expect(script.trimEnd().split('\n').at(-1)).toMatch(/^wait \d+ms$/);
      view.unmount();
      await engine.stop();
      const outcome = await runScript(parseScript(script), {
        engineOptions: { ratePerSec: 5000, snapshotIntervalMs: 200 },
      });
      expect(outcome.summary.fleet.open).toBe(knee);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('quits on q through onQuit', async () => {
    const { view, quits } = await startApp();
    view.stdin.write('q');
    await eventually(() => quits() === 1, 2000);
    view.unmount();
  });
});

describe('ConsoleSession', () => {
  it('saves what drove the engine as a script that parses back', async () => {
    engine = await createEngine({ ratePerSec: 5000 });
    let now = 1_000_000;
    const session = new ConsoleSession(engine, () => now);
    await session.run('vus 5');
    now += 2500;
    await session.run('probe 10/s');
    expect((await session.run('nonsense')).ok).toBe(false);
    const script = session.toScript();
    expect(script.split('\n').slice(1)).toEqual(['vus 5', 'wait 2500ms', 'probe 10/s', '']);
    const { parseScript } = await import('../../console/script/parse.ts');
    expect(parseScript(script).map((s) => s.kind)).toEqual(['engine', 'wait', 'engine']);
  });
});
