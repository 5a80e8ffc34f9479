// The hostile-target fuzz of issue 19: one server mixes what a bad target sends (JSON nested
// 10,000 deep, frames near and past the limit, partial packets, a burst of new topic names,
// control characters in topics and close reasons, binary garbage, spells of not reading) with a
// clean canary tick, and each preset's users run a script against it while sending messages of
// their own. The run must end on time with its JSON and the exit code its thresholds decide,
// hold the generator's memory within twice a clean run's against the same server with the
// hostility off, count each fault under its class, and keep measuring the canary.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Preset, startHostileTarget } from '../helpers/hostile-target.ts';
import { runCli } from '../helpers/run-cli.ts';

const WAIT_S = 5;
const PAD = 'x'.repeat(200);

/** Each preset's script: 10 users, a check on the canary, messages of their own where the preset sends any. */
const SCRIPTS: Record<Preset, string> = {
  raw: `vus 10\nawait open 10 timeout 10s\nmessages 2000/s {"pad":"${PAD}"}\ncheck canary data.seq > 0\n`,
  socketio:
    `protocol socketio\nvus 10\nawait open 10 timeout 10s\nmessages 2000/s pad ` +
    `{"pad":"${PAD}"}\ncheck canary seq > 0\n`,
  'graphql-ws':
    `protocol graphql-ws\non open send {"query":"subscription { canary }"}\nvus 10\nawait open 10 ` +
    `timeout 10s\ncheck canary seq > 0\n`,
  mqtt:
    `protocol mqtt\nconnect {"clientId":"c{{vu}}"}\non open send subscribe canary\nvus 10\nawait ` +
    `open 10 timeout 10s\nmessages 2000/s publish pad {"pad":"${PAD}"}\ncheck canary seq > 0\n`,
};

/** The class each preset counts a message it cannot read under. */
const BAD_PACKET: Record<Preset, string> = {
  raw: 'raw.bad_packet',
  socketio: 'socketio.bad_packet',
  'graphql-ws': 'graphql.bad_message',
  mqtt: 'mqtt.bad_packet',
};

// C0 controls but tab and newline, DEL and C1: none may reach what a person reads
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to find them
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

async function runAgainst(preset: Preset, isHostile: boolean) {
  const target = await startHostileTarget({ seed: 7, kinds: isHostile ? undefined : [] });
  const dir = mkdtempSync(join(tmpdir(), 'sockstorm-hostile-'));
  const script = join(dir, `${preset}.storm`);
  writeFileSync(script, `${SCRIPTS[preset]}wait ${WAIT_S}s\nexpect checks.canary.rate > 0\nexpect errors.count == 0\n`);
  const paths =
    preset === 'raw'
      ? ['--topic-path', 'topic', '--seq-path', 'data.seq', '--ts-path', 'data.ts']
      : ['--seq-path', 'seq', '--ts-path', 'ts'];
  const json = join(dir, 'summary.json');
  const startedAt = Date.now();
  try {
    const run = await runCli(['run', script, '--target', target.url, ...paths, '--json', json], {}, 60_000);
    return {
      ...run,
      tookMs: Date.now() - startedAt,
      summary: JSON.parse(readFileSync(json, 'utf8')),
      sent: target.sent,
    };
  } finally {
    await target.close();
  }
}

describe.each(['raw', 'socketio', 'graphql-ws', 'mqtt'] as const)(
  'a hostile target against the %s preset',
  (preset) => {
    it('ends on time with its JSON and exit code, within twice a clean run’s memory, each fault counted ' +
      'and the canary measured', async () => {
      const clean = await runAgainst(preset, false);
      expect(clean.code, clean.stdout).toBe(0);
      expect(clean.summary.errors).toEqual({});

      const hostile = await runAgainst(preset, true);
      // every kind of hostility was sent while users were open
      for (const kind of ['nested', 'huge', 'partial', 'topics', 'control', 'garbage'] as const)
        expect(hostile.sent[kind], kind).toBeGreaterThan(0);
      // the exit code its thresholds decide: the canary was measured, and the faults were counted (99;
      // 100 when a loaded suite saturated the generator for a second of the faults' samples)
      expect(hostile.code, hostile.stdout + hostile.stderr).toBe(hostile.summary.exitCode);
      expect(hostile.summary.verdict).toBe(hostile.code === 100 ? 'inconclusive' : 'failed');
      expect([99, 100]).toContain(hostile.code);
      const results = Object.fromEntries(
        hostile.summary.thresholds.map((t: { metric: string; passed: boolean }) => [t.metric, t.passed]),
      );
      expect(results).toEqual({ 'checks.canary.rate': true, 'errors.count': false });
      // on time: the script's waits plus the handshakes, the stop and a generous grace for a loaded suite
      expect(hostile.tookMs).toBeLessThan((WAIT_S + 25) * 1000);
      // bounded: what the target sent is not what the generator keeps
      const [rss, cleanRss] = [hostile.summary.health.rssMaxBytes, clean.summary.health.rssMaxBytes];
      expect(rss, `RSS ${rss >> 20} MiB against ${cleanRss >> 20} MiB clean`).toBeLessThanOrEqual(2 * cleanRss);
      // counted, each under its class
      const errors = hostile.summary.errors as Record<string, number>;
      expect(errors[BAD_PACKET[preset]], JSON.stringify(errors)).toBeGreaterThan(0);
      expect(errors['protocol.WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'], JSON.stringify(errors)).toBeGreaterThan(0);
      expect(errors['close.4000'], JSON.stringify(errors)).toBeGreaterThan(0);
      if (preset === 'mqtt') expect(errors['mqtt.packet_too_large'], JSON.stringify(errors)).toBeGreaterThan(0);
      if (preset === 'raw') expect(errors['protocol.WS_ERR_INVALID_OPCODE'], JSON.stringify(errors)).toBeGreaterThan(0);
      expect(hostile.summary.totals.userTopicsEvicted).toBeGreaterThan(0);
      // the canary still measured: its ticks passed the check and were timed as fan-out
      expect(hostile.summary.checks.canary.passes).toBeGreaterThan(100);
      expect(hostile.summary.latency.fanout.count).toBeGreaterThan(100);
      // nothing the target named reached the terminal as a control character
      expect(CONTROL.test(hostile.stdout), hostile.stdout).toBe(false);
      expect(CONTROL.test(hostile.stderr), hostile.stderr).toBe(false);
    }, 120_000);
  },
);
