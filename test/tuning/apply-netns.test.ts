import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasTool } from '../helpers/optional-tools.ts';
import { runCli } from '../helpers/run-cli.ts';
import { makeProc, THIS_MACHINE } from '../helpers/proc-fixture.ts';

// Network sysctls live per network namespace: apply and restore run inside one made here,
// so the host is never changed. `--scope net` keeps the global fs.* settings out of it.
const NS = `sockstorm-test-${process.pid}`;
const BIN = fileURLToPath(new URL('../../console/bin.mjs', import.meta.url));
const NET = {
  'net.ipv4.ip_local_port_range': 'net/ipv4/ip_local_port_range',
  'net.ipv4.tcp_max_syn_backlog': 'net/ipv4/tcp_max_syn_backlog',
  'net.core.somaxconn': 'net/core/somaxconn',
};

function inNs(...args: string[]): { code: number; stdout: string; stderr: string } {
  try {
    return {
      code: 0,
      stdout: execFileSync('ip', ['netns', 'exec', NS, ...args], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
      stderr: '',
    };
  } catch (error) {
    const e = error as { status: number; stdout: string; stderr: string };
    return { code: e.status, stdout: e.stdout, stderr: e.stderr };
  }
}

function values(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(NET).map(([name, path]) => [
      name,
      inNs('cat', `/proc/sys/${path}`).stdout.trim().replace(/\s+/g, ' '),
    ]),
  );
}

function sockstorm(...args: string[]) {
  return inNs(process.execPath, BIN, ...args);
}

describe.skipIf(!hasTool('netns', 'tune apply and restore inside a network namespace'))(
  'sockstorm tune apply and restore, inside a network namespace',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'sockstorm-tune-'));
    const journal = join(dir, 'journal.json');
    let originals: Record<string, string>;

    beforeAll(() => {
      execFileSync('ip', ['netns', 'add', NS]);
      originals = values();
    });
    afterAll(() => {
      execFileSync('ip', ['netns', 'del', NS]);
    });

    it('shows the diff and changes nothing without --yes', () => {
      const dry = sockstorm('tune', 'apply', '--connections', '60000', '--scope', 'net', '--journal', journal);
      expect(dry.code).toBe(0);
      expect(dry.stdout).toContain('net.ipv4.ip_local_port_range: 32768 60999 → 1024 65535');
      expect(dry.stdout).toContain('nothing changed');
      expect(values()).toEqual(originals);
    });

    it('applies the recommended values, then restore puts back exactly the originals', () => {
      const applied = sockstorm(
        'tune',
        'apply',
        '--connections',
        '60000',
        '--scope',
        'net',
        '--yes',
        '--journal',
        journal,
      );
      expect(applied.code).toBe(0);
      expect(values()).toEqual({
        ...originals,
        'net.ipv4.ip_local_port_range': '1024 65535',
        'net.ipv4.tcp_max_syn_backlog': '4096',
      });
      const journaled = JSON.parse(readFileSync(journal, 'utf8'));
      expect(journaled.entries.map((e: { name: string; old: string }) => [e.name, e.old])).toEqual([
        ['net.ipv4.ip_local_port_range', originals['net.ipv4.ip_local_port_range']],
        ['net.ipv4.tcp_max_syn_backlog', originals['net.ipv4.tcp_max_syn_backlog']],
      ]);
      const restored = sockstorm('tune', 'restore', '--journal', journal);
      expect(restored.code).toBe(0);
      expect(restored.stdout).toContain('restored');
      expect(values()).toEqual(originals);
    });

    it('survives a crash between steps: a re-run completes and restore still finds the first old values', () => {
      // as if apply died after journaling and writing the port range, before the backlog
      writeFileSync(
        journal,
        JSON.stringify({
          version: 1,
          persistFile: null,
          entries: [
            {
              kind: 'sysctl',
              name: 'net.ipv4.ip_local_port_range',
              old: originals['net.ipv4.ip_local_port_range'],
              new: '1024 65535',
            },
          ],
        }),
      );
      inNs('sh', '-c', 'echo "1024 65535" > /proc/sys/net/ipv4/ip_local_port_range');
      expect(
        sockstorm('tune', 'apply', '--connections', '60000', '--scope', 'net', '--yes', '--journal', journal).code,
      ).toBe(0);
      expect(values()['net.ipv4.tcp_max_syn_backlog']).toBe('4096');
      expect(sockstorm('tune', 'restore', '--journal', journal).code).toBe(0);
      expect(values()).toEqual(originals);
    });

    it('persists to a sysctl.d drop-in with --persist, and restore removes it', () => {
      const sysctlDir = mkdtempSync(join(tmpdir(), 'sockstorm-sysctl-'));
      const dropIn = join(sysctlDir, '99-sockstorm.conf');
      const applied = inNs(
        'env',
        `SOCKSTORM_SYSCTL_DIR=${sysctlDir}`,
        process.execPath,
        BIN,
        'tune',
        'apply',
        '--connections',
        '60000',
        '--scope',
        'net',
        '--persist',
        '--yes',
        '--journal',
        journal,
      );
      expect(applied.code).toBe(0);
      expect(readFileSync(dropIn, 'utf8')).toContain('net.ipv4.ip_local_port_range = 1024 65535');
      expect(sockstorm('tune', 'restore', '--journal', journal).code).toBe(0);
      expect(existsSync(dropIn)).toBe(false);
      expect(values()).toEqual(originals);
    });

    it('refuses a missing or corrupt journal and changes nothing', () => {
      const missing = sockstorm('tune', 'restore', '--journal', join(dir, 'none.json'));
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('nothing to restore');
      writeFileSync(journal, '{ broken');
      const corrupt = sockstorm('tune', 'restore', '--journal', journal);
      expect(corrupt.code).toBe(1);
      expect(corrupt.stderr).toContain('corrupt');
      expect(values()).toEqual(originals);
    });
  },
);

describe('sockstorm tune without privilege', () => {
  // the /proc root is the seam: a fixture tree that says uid 1000 (the project folder may not
  // be readable by another user, so the test does not switch users)
  it('refuses apply for a non-root user, naming what is missing, and changes nothing', async () => {
    const procRoot = makeProc({
      ...THIS_MACHINE,
      status: 'Name:\tnode\nUid:\t1000\t1000\t1000\t1000\nCapEff:\t0000000000000000\n',
    });
    const journalFile = join(mkdtempSync(join(tmpdir(), 'sockstorm-nobody-')), 'journal.json');
    const result = await runCli([
      'tune',
      'apply',
      '--connections',
      '60000',
      '--yes',
      '--proc-root',
      procRoot,
      '--journal',
      journalFile,
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('needs root (uid 0); this is uid 1000');
    expect(existsSync(journalFile)).toBe(false);
    expect(readFileSync(join(procRoot, 'sys/net/ipv4/ip_local_port_range'), 'utf8')).toBe(
      THIS_MACHINE.sys['net/ipv4/ip_local_port_range'],
    );
  });
});

describe('sockstorm tune probe', () => {
  it('opens real connections up to the bound and says what stopped it', async () => {
    const result = await runCli(['tune', 'probe', '--max', '200', '--json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.probe).toMatchObject({ held: 200, bound: 200, stoppedBy: null, errors: {} });
    expect(report.predicted).toBeGreaterThan(200);
  });
});

describe('sockstorm tune check', () => {
  it('exits 0 when the host can hold N, 106 when it cannot, 104 for a bad N', async () => {
    const ok = await runCli(['tune', 'check', '--connections', '1000', '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ canHold: true, capacity: { wanted: 1000 } });
    const big = await runCli(['tune', 'check', '--connections', '5000000']);
    expect(big.code).toBe(106);
    expect(big.stdout).toContain('CANNOT hold');
    expect((await runCli(['tune', 'check', '--connections', '-5'])).code).toBe(104);
    expect((await runCli(['tune', 'check', '--connections', 'many'])).code).toBe(104);
  });

  it('makes run refuse a script that asks for more than the host holds, with exit 106 and the finding', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sockstorm-big-')), 'big.storm');
    writeFileSync(file, 'vus 5000000\n');
    const result = await runCli(['run', file]);
    expect(result.code).toBe(106);
    expect(result.stderr).toContain('this host can hold');
    expect(result.stderr).toContain('sockstorm tune check');
  });
});
