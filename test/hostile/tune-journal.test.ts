// Catalog row 13: restore never deletes what it did not write and says when it failed;
// unknown facts never add up to "can hold".
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DROP_IN_HEADER } from '../../tuning/apply.ts';
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

describe('tune check with facts it cannot read', () => {
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
