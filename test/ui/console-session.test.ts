import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { AdminClient } from '../../console/engine/bundled/admin-client.ts';
import type { EngineCommand } from '../../console/engine/commands.ts';
import { ConsoleSession, mayHaveTakenEffect } from '../../console/script/console-session.ts';
import { parseScript } from '../../console/script/parse.ts';
import { FixtureEngine, fixtureSnapshot } from './fixtures.ts';

// what the admin client answers when the server does not answer within its 5 s
const TIMED_OUT = 'The operation was aborted due to timeout';

function answers(command: EngineCommand) {
  if (command.type === 'server' && command.knob === 'workMs')
    return { ok: false, message: `server workMs ${command.value}: ${TIMED_OUT}` };
  if (command.type === 'server') return { ok: false, message: `server ${command.knob} ${command.value}: refused` };
  return { ok: true, message: 'done' };
}

describe('ConsoleSession (fixture engine)', () => {
  it('holds the end state in a saved script: a trailing wait from the last command to the save', async () => {
    let now = 1_000_000;
    const session = new ConsoleSession(new FixtureEngine(), () => now);
    await session.run('vus 5');
    now += 2500;
    await session.run('probe 10/s');
    now += 7250;
    expect(session.toScript().split('\n').slice(1)).toEqual(['vus 5', 'wait 2500ms', 'probe 10/s', 'wait 7250ms', '']);
    expect(parseScript(session.toScript()).map((step) => step.kind)).toEqual(['engine', 'wait', 'engine', 'wait']);
  });

  it('says that save needs a file, and which form, rather than call it an unknown command', async () => {
    const session = new ConsoleSession(new FixtureEngine());
    for (const line of ['save', '  save  '])
      expect(await session.run(line)).toEqual({ ok: false, message: ':save needs a file: :save FILE.storm' });
    expect(await session.run('save my session.storm')).toEqual({
      ok: false,
      message: ':save needs a file: :save FILE.storm (one file name, without spaces)',
    });
  });

  it('keeps a command whose answer timed out (the server may have carried it out), not one that was refused', async () => {
    let now = 1_000_000;
    const session = new ConsoleSession(new FixtureEngine(fixtureSnapshot(), answers), () => now);
    const timedOut = await session.run('server workMs 20');
    expect(timedOut).toEqual({
      ok: false,
      message: `server workMs 20: ${TIMED_OUT} (kept for save: it may have been carried out)`,
    });
    now += 1000;
    expect((await session.run('server acceptDelayMs 50')).ok).toBe(false);
    expect(session.toScript().split('\n').slice(1)).toEqual(['server workMs 20', 'wait 1000ms', '']);
  });

  it("takes the admin client's own timeout for one that may have taken effect", async () => {
    // a server that reads the request and never answers, as one stuck behind its own work
    const server = createServer(() => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const admin = new AdminClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 'token', 100);
      const result = await admin.configure({ workMs: 20 });
      expect(result).toEqual({ ok: false, status: 0, message: TIMED_OUT });
      expect(mayHaveTakenEffect({ ok: false, message: `server workMs 20: ${TIMED_OUT}` })).toBe(true);
      expect(mayHaveTakenEffect({ ok: false, message: '"server workMs" needs the bundled server\'s admin API' })).toBe(
        false,
      );
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('records a remove clamped to the target, and nothing for a remove at 0', async () => {
    const base = fixtureSnapshot();
    const engine = new FixtureEngine(fixtureSnapshot({ fleet: { ...base.fleet, target: 0, open: 0 } }));
    const session = new ConsoleSession(engine, () => 0);
    expect(await session.run('remove 1000')).toEqual({ ok: true, message: 'nothing to remove: the target is 0 VUs' });
    engine.publish(fixtureSnapshot({ fleet: { ...base.fleet, target: 300, open: 280 } }));
    await session.run('remove 1000');
    expect(engine.commands).toEqual([{ type: 'remove', count: 300 }]);
    expect(session.toScript().split('\n').slice(1)).toEqual(['remove 300', '']);
  });

  it('cycles from the policy it set itself, and falls back on the engine when a change is refused', async () => {
    const engine = new FixtureEngine(fixtureSnapshot(), (command) =>
      command.type === 'reconnect' && command.policy.kind === 'immediate'
        ? { ok: false, message: 'no' }
        : { ok: true, message: 'done' },
    );
    const session = new ConsoleSession(engine);
    expect(session.policyInForce()).toEqual({ kind: 'expo', minMs: 100, maxMs: 5000, jitter: 'full' });
    const pending = session.run('reconnect fixed 1s');
    expect(session.policyInForce()).toEqual({ kind: 'fixed', delayMs: 1000 });
    await pending;
    await session.run('reconnect immediate');
    expect(session.policyInForce()).toEqual({ kind: 'fixed', delayMs: 1000 });
  });
});
