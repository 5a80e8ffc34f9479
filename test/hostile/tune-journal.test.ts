// Catalog row 13: restore never deletes what it did not write and says when it failed;
// unknown facts never add up to "can hold".
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DROP_IN_HEADER } from '../../tuning/apply.ts';
import { makeProc, THIS_MACHINE } from '../helpers/proc-fixture.ts';
import { runCli } from '../helpers/run-cli.ts';

function journalIn(dir: string, body: object): string {
  const path = join(dir, 'journal.json');
  writeFileSync(path, JSON.stringify({ version: 1, entries: [], persistFile: null, ...body }));
  return path;
}

describe('tune restore against a hostile or broken journal', () => {
  it('exits non-zero and keeps the journal when an entry cannot be restored', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sockstorm-tune-'));
    const emptyProc = mkdtempSync(join(tmpdir(), 'sockstorm-proc-'));
    const journal = journalIn(dir, {
      entries: [{ kind: 'sysctl', name: 'net.core.somaxconn', old: '4096', new: '8192' }],
    });
    const result = await runCli(['tune', 'restore', '--journal', journal, '--proc-root', emptyProc]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('FAIL net.core.somaxconn');
    expect(result.stderr).toContain('the journal is kept');
    expect(existsSync(journal)).toBe(true);
  });

  it('refuses to delete a file the journal names that sockstorm did not write', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sockstorm-tune-'));
    const victim = join(dir, 'precious.conf');
    writeFileSync(victim, 'net.core.somaxconn = 65535\n');
    const result = await runCli(['tune', 'restore', '--journal', journalIn(dir, { persistFile: victim })]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('not a drop-in sockstorm wrote');
    expect(readFileSync(victim, 'utf8')).toBe('net.core.somaxconn = 65535\n');
  });

  it('removes the drop-in it wrote, recognised by its content', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sockstorm-tune-'));
    const dropIn = join(dir, '99-sockstorm.conf');
    writeFileSync(dropIn, `${DROP_IN_HEADER}\nnet.core.somaxconn = 4096\nnet.ipv4.ip_local_port_range = 1024 65535\n`);
    const result = await runCli(['tune', 'restore', '--journal', journalIn(dir, { persistFile: dropIn })]);
    expect(result.code).toBe(0);
    expect(existsSync(dropIn)).toBe(false);
  });
});

describe('tune restore against a journal someone edited', () => {
  it.each([
    ['a null entry', [null], 'entry 1 is not an object'],
    [
      'an entry without its old value',
      [{ kind: 'sysctl', name: 'net.core.somaxconn', new: '8192' }],
      'entry 1 lacks its old or new value',
    ],
    [
      'a sysctl sockstorm never sets',
      [{ kind: 'sysctl', name: 'kernel.core_pattern', old: '|/tmp/x', new: 'core' }],
      'entry 1 names a sysctl sockstorm does not set',
    ],
    [
      'an fd limit without a process',
      [{ kind: 'nofile', name: 'nofile', old: '1024:1024', new: '4096:4096' }],
      'entry 1 is an fd limit without a process id',
    ],
  ])('refuses %s, says which entry, and changes nothing', async (_, entries, problem) => {
    const dir = mkdtempSync(join(tmpdir(), 'sockstorm-tune-'));
    const proc = makeProc(THIS_MACHINE);
    const journal = journalIn(dir, { entries });
    const result = await runCli(['tune', 'restore', '--journal', journal, '--proc-root', proc]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`is corrupt: ${problem}`);
    expect(result.stderr).toContain('nothing was changed');
    expect(result.stderr).not.toContain('TypeError');
    expect(readFileSync(join(proc, 'sys/net/core/somaxconn'), 'utf8')).toBe('4096');
    expect(existsSync(journal)).toBe(true);
  });
});

describe('tune apply --persist beside a drop-in it did not write', () => {
  it('leaves the file as it was, says so, and restore then puts the sysctl back without touching the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sockstorm-tune-'));
    const sysctlDir = mkdtempSync(join(tmpdir(), 'sockstorm-sysctl-'));
    const theirs = join(sysctlDir, '99-sockstorm.conf');
    writeFileSync(theirs, 'net.core.somaxconn = 65535\n');
    const proc = makeProc({ ...THIS_MACHINE, sys: { ...THIS_MACHINE.sys, 'net/core/somaxconn': '128' } });
    const journal = join(dir, 'journal.json');
    const env = { SOCKSTORM_SYSCTL_DIR: sysctlDir };
    const applied = await runCli(
      [
        'tune',
        'apply',
        '--yes',
        '--persist',
        '--scope',
        'net',
        '--proc-root',
        proc,
        '--journal',
        journal,
        '--connections',
        '1000',
      ],
      env,
    );
    expect(applied.code, applied.stdout + applied.stderr).toBe(1);
    expect(applied.stdout).toContain('a file sockstorm did not write is there');
    expect(readFileSync(theirs, 'utf8')).toBe('net.core.somaxconn = 65535\n');
    expect(readFileSync(join(proc, 'sys/net/core/somaxconn'), 'utf8')).not.toBe('128');
    expect(JSON.parse(readFileSync(journal, 'utf8')).persistFile).toBeNull();
    const restored = await runCli(['tune', 'restore', '--journal', journal, '--proc-root', proc], env);
    expect(restored.code, restored.stdout + restored.stderr).toBe(0);
    expect(readFileSync(join(proc, 'sys/net/core/somaxconn'), 'utf8')).toBe('128');
    expect(readFileSync(theirs, 'utf8')).toBe('net.core.somaxconn = 65535\n');
  });
});

describe('tune check with facts it cannot read', () => {
  it('reads junk in /proc as unknown, never as a passing value', async () => {
    const junk = {
      'fs/nr_open': '-1',
      'net/core/somaxconn': '1e9',
      'net/ipv4/tcp_max_syn_backlog': '0x10',
      'net/ipv4/ip_local_port_range': '60999 32768',
    };
    const proc = makeProc({ ...THIS_MACHINE, sys: { ...THIS_MACHINE.sys, ...junk } });
    const result = await runCli(['tune', 'check', '--connections', '100', '--proc-root', proc, '--json']);
    const findings = JSON.parse(result.stdout).findings as Array<{ id: string; status: string; current: string }>;
    for (const id of ['fs.nr_open', 'net.core.somaxconn', 'net.ipv4.tcp_max_syn_backlog']) {
      expect(
        findings.find((f) => f.id === id),
        id,
      ).toMatchObject({ status: 'unknown', current: 'unknown' });
    }
    expect(JSON.stringify(findings.find((f) => f.id === 'net.ipv4.ip_local_port_range'))).toContain('unknown');
  });

  it('never says "can hold" from an empty /proc: it cannot tell, and exits 106', async () => {
    const emptyProc = mkdtempSync(join(tmpdir(), 'sockstorm-proc-'));
    const result = await runCli(['tune', 'check', '--connections', '100', '--proc-root', emptyProc]);
    expect(result.code).toBe(106);
    expect(result.stdout).toContain('CANNOT TELL');
    expect(result.stdout).toContain('unknown: open files per process, ephemeral ports per destination, memory');
    const json = await runCli(['tune', 'check', '--connections', '100', '--proc-root', emptyProc, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ canHold: false, capacity: { isShort: false } });
  });
});
