import { afterEach } from 'vitest';
import { createEngine, type Engine } from '../../console/engine/engine.ts';
import type { EngineOptions } from '../../console/engine/engine-options.ts';
import { eventually } from './test-client.ts';

/** Engines for a test file: each test's engines are stopped after it, whatever happened. */
export function useEngines(): { start(options: EngineOptions, openCount?: number): Promise<Engine> } {
  const running: Engine[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((engine) => engine.stop()));
  });
  return {
    /** Creates an engine and, with `openCount`, sets that target and waits until all are open. */
    async start(options, openCount) {
      const engine = await createEngine(options);
      running.push(engine);
      if (openCount !== undefined) {
        await engine.dispatch({ type: 'set-target', count: openCount });
        await eventually(() => engine.live().open === openCount, 15_000);
      }
      return engine;
    },
  };
}
