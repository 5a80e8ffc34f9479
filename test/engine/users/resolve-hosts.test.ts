// The target's names are resolved once, before any socket, and every connection is then answered
// from what was resolved: a name only the cache knows (an .invalid one) is dialled on a real
// socket by both clients, and Host still names it. A name that does not resolve, or not in time,
// is refused naming it.
import type dns from 'node:dns';
import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { EngineConfigError, resolveOptions } from '../../../console/engine/engine-options.ts';
import { LeanClient } from '../../../console/engine/users/lean-client.ts';
import { clientOptions } from '../../../console/engine/parts/local-fleet.ts';
import { cachedLookup, hostNames, resolveHosts, type Lookup } from '../../../console/engine/users/resolve-hosts.ts';
import { Recorder } from '../../helpers/lean-recorder.ts';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

const LOOPBACK: dns.LookupAddress[] = [{ address: '127.0.0.1', family: 4 }];

describe('resolve-hosts', () => {
  it('resolves each name once, and neither addresses nor hosts filled in per user', () => {
    expect(
      hostNames([
        'ws://a.example:1/',
        'wss://a.example:2/x',
        'ws://127.0.0.1:3/',
        'ws://[::1]:4/',
        'ws://{{row.host}}:5/',
        'ws://b.example/%7B%7Brow.room%7D%7D',
      ]),
    ).toEqual(['a.example', 'b.example']);
  });

  it('asks the resolver once per name before any connection', async () => {
    const asked: string[] = [];
    const lookup: Lookup = async (host) => {
      asked.push(host);
      return LOOPBACK;
    };
    expect(await resolveHosts(['ws://a.example:1/', 'ws://a.example:2/', 'ws://127.0.0.1:3/'], lookup)).toEqual({
      'a.example': LOOPBACK,
    });
    expect(asked).toEqual(['a.example']);
  });

  it('refuses a name the resolver does not know, naming it (config.dns)', async () => {
    const error = await resolveHosts(['ws://no-such-host.invalid:1234/']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineConfigError);
    expect(error).toMatchObject({ code: 'config.dns' });
    expect((error as Error).message).toMatch(
      /^the target's host "no-such-host\.invalid" does not resolve \(E[A-Z_]+\); check the name/,
    );
  });

  it('refuses a name whose lookup never answers, at its deadline', async () => {
    const never: Lookup = () => new Promise(() => {});
    const error = await resolveHosts(['ws://slow.example:1/'], never, 50).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'config.dns' });
    expect((error as Error).message).toContain('"slow.example" does not resolve (ETIMEOUT: no answer within 0.05 s)');
  });

  it('dials a name only the cache knows on a real socket, with both clients, and Host names it', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    const hosts: string[] = [];
    wss.on('connection', (_ws, request) => hosts.push(request.headers.host!));
    await new Promise((resolve) => wss.once('listening', resolve));
    closers.push(async () => {
      for (const ws of wss.clients) ws.terminate();
      await new Promise((resolve) => wss.close(resolve));
    });
    const port = (wss.address() as net.AddressInfo).port;
    const url = `ws://cached-only.invalid:${port}/`;
    const options = clientOptions(resolveOptions({ target: url }), { 'cached-only.invalid': LOOPBACK });
    const recorder = new Recorder();
    const lean = new LeanClient(url, [], options, recorder);
    await recorder.nth('open');
    lean.terminate();
    const ws = new WebSocket(url, options);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    ws.terminate();
    expect(hosts).toEqual([`cached-only.invalid:${port}`, `cached-only.invalid:${port}`]);
  });

  it('answers a lookup for one address family, and asks the system for names it was not given', async () => {
    const lookup = cachedLookup({ 'two.example': [{ address: '::1', family: 6 }, ...LOOPBACK] });
    const answer = (host: string, options: dns.LookupOptions) =>
      new Promise((resolve) =>
        lookup(host, options, (error, address, family) => resolve(error ? error.code : [address, family])),
      );
    expect(await answer('two.example', { family: 4 })).toEqual(['127.0.0.1', 4]);
    expect(await answer('two.example', { all: true })).toEqual([
      [{ address: '::1', family: 6 }, ...LOOPBACK],
      undefined,
    ]);
    expect(await answer('localhost', { family: 4 })).toEqual(['127.0.0.1', 4]);
  });
});
