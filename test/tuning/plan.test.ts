import { describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  cgroupMemoryAvailable,
  parseLimits,
  parseMemAvailable,
  parseNumbers,
  parseStatus,
  readFacts,
} from '../../tuning/facts.ts';
import { capacityFor, FD_OVERHEAD, planFor } from '../../tuning/plan.ts';
import { makeProc, THIS_MACHINE } from '../helpers/proc-fixture.ts';

describe('tuning facts', () => {
  it('parses limits, status capabilities, meminfo and sysctl numbers', () => {
    expect(parseLimits(THIS_MACHINE.limits)).toEqual({ soft: 20000, hard: 20000 });
    expect(parseLimits('Max open files            unlimited            unlimited            files')).toEqual({
      soft: Number.MAX_SAFE_INTEGER,
      hard: Number.MAX_SAFE_INTEGER,
    });
    expect(parseStatus(THIS_MACHINE.status)).toEqual({ uid: 0, hasSysResource: false, hasNetAdmin: true });
    expect(parseStatus('Uid:\t1000\t1000\t1000\t1000\nCapEff:\t000001ffffffffff\n')).toEqual({
      uid: 1000,
      hasSysResource: true,
      hasNetAdmin: true,
    });
    expect(parseMemAvailable(THIS_MACHINE.meminfo)).toBe(20000000 * 1024);
    expect(parseNumbers('32768\t60999\n')).toEqual([32768, 60999]);
    expect(parseNumbers('garbage')).toBeNull();
  });

  it('reads a whole fixture tree, and reports missing or unreadable files as unknown', () => {
    const facts = readFacts(makeProc(THIS_MACHINE));
    expect(facts).toMatchObject({ nofileSoft: 20000, nofileHard: 20000, uid: 0, hasSysResource: false });
    expect(facts.sysctl['net.ipv4.ip_local_port_range']).toEqual([32768, 60999]);
    expect(facts.sysctl['net.ipv4.tcp_mem']).toEqual([287898, 383865, 575796]);
    const bare = readFacts(makeProc({ sys: { 'net/core/somaxconn': 'not a number' } }));
    expect(bare).toMatchObject({ nofileHard: null, memAvailableBytes: null, uid: null });
    expect(bare.sysctl['net.core.somaxconn']).toBeNull();
    const findings = planFor({ facts: bare, connections: 1000, sourceAddresses: 1 });
    expect(findings.find((f) => f.id === 'net.core.somaxconn')?.status).toBe('unknown');
  });
});

/** Writes `files` (path under the fixture's root: self/cgroup, cgroup-fs/...) into a fixture tree. */
function withFiles(root: string, files: Record<string, string>): string {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const MiB = 1048576;

describe("a container's memory limit (cgroup)", () => {
  it(
    'counts what a cgroup v2 limit leaves (memory.max less memory.current, less the inactive page ' +
      'cache) when it is below the host',
    () => {
      const root = withFiles(makeProc(THIS_MACHINE), {
        'self/cgroup': '0::/kubepods/pod1/agent\n',
        'cgroup-fs/kubepods/pod1/agent/memory.max': `${256 * MiB}\n`,
        'cgroup-fs/kubepods/pod1/agent/memory.current': `${200 * MiB}\n`,
        'cgroup-fs/kubepods/pod1/agent/memory.stat': `anon ${100 * MiB}\ninactive_file ${100 * MiB}\nactive_file 0\n`,
      });
      const facts = readFacts(root);
      expect(facts).toMatchObject({ memAvailableBytes: 156 * MiB, isMemoryCgroupBound: true });
      const capacity = capacityFor({ facts, connections: 100_000, sourceAddresses: 64 });
      expect(capacity).toMatchObject({
        binding: 'memory (cgroup limit)',
        capacity: Math.floor((156 * MiB) / (16 * 1024)),
      });
      expect(capacity.lift).toContain("container's memory limit");
      expect(
        planFor({ facts, connections: 100_000, sourceAddresses: 64 }).find((f) => f.id === 'memory'),
      ).toMatchObject({
        status: 'fail',
        current: '156 MiB available (cgroup limit)',
      });
    },
  );

  it(
    "reads cgroup v1's memory.limit_in_bytes, at the group's own path or at the mount's root (a " +
      "cgroup namespace), and no limit as the host's",
    () => {
      const v1 = (dir: string) => ({
        'self/cgroup': '9:pids:/\n4:memory:/docker/abc\n0::/\n',
        [`cgroup-fs/memory${dir}/memory.limit_in_bytes`]: `${1024 * MiB}\n`,
        [`cgroup-fs/memory${dir}/memory.usage_in_bytes`]: `${100 * MiB}\n`,
        [`cgroup-fs/memory${dir}/memory.stat`]: 'total_inactive_file 0\n',
      });
      expect(readFacts(withFiles(makeProc(THIS_MACHINE), v1('/docker/abc')))).toMatchObject({
        memAvailableBytes: 924 * MiB,
        isMemoryCgroupBound: true,
      });
      expect(readFacts(withFiles(makeProc(THIS_MACHINE), v1('')))).toMatchObject({
        memAvailableBytes: 924 * MiB,
        isMemoryCgroupBound: true,
      });
      // v1's "no limit" (2^63 rounded down to a page) and v2's "max": the host's MemAvailable stands
      const unlimited = withFiles(makeProc(THIS_MACHINE), {
        'self/cgroup': '4:memory:/\n',
        'cgroup-fs/memory/memory.limit_in_bytes': '9223372036854771712\n',
      });
      expect(readFacts(unlimited)).toMatchObject({ memAvailableBytes: 20000000 * 1024, isMemoryCgroupBound: false });
      expect(cgroupMemoryAvailable('0::/\n', withFiles(makeProc({}), { 'memory.max': 'max\n' }))).toBeNull();
      // a limit above what the host has left does not bind
      const roomy = withFiles(makeProc(THIS_MACHINE), {
        'self/cgroup': '0::/\n',
        'cgroup-fs/memory.max': `${64 * 1024 * MiB}\n`,
        'cgroup-fs/memory.current': '0\n',
      });
      expect(readFacts(roomy)).toMatchObject({ memAvailableBytes: 20000000 * 1024, isMemoryCgroupBound: false });
      // no cgroup file at all (not Linux, or an old kernel): the host
      expect(readFacts(makeProc(THIS_MACHINE))).toMatchObject({
        memAvailableBytes: 20000000 * 1024,
        isMemoryCgroupBound: false,
      });
    },
  );
});

describe('tuning plan', () => {
  const facts = readFacts(makeProc(THIS_MACHINE));

  it('says this machine holds 15,000 but not 100,000, bound by an fd limit it cannot raise', () => {
    expect(capacityFor({ facts, connections: 15_000, sourceAddresses: 1 })).toMatchObject({
      canHold: true,
      capacity: 20_000 - FD_OVERHEAD,
    });
    const big = capacityFor({ facts, connections: 100_000, sourceAddresses: 1 });
    expect(big).toMatchObject({ canHold: false, capacity: 20_000 - FD_OVERHEAD, binding: 'open files per process' });
    expect(big.lift).toContain('no CAP_SYS_RESOURCE');
    expect(big.lift).toContain('run 6 generator processes (--workers)');
    expect(big.shortfalls.map((s) => s.limit)).toEqual(['open files per process', 'ephemeral ports per destination']);
    expect(capacityFor({ facts, connections: 30_000, sourceAddresses: 1, processes: 2 })).toMatchObject({
      byFds: 2 * (20_000 - FD_OVERHEAD),
      binding: 'ephemeral ports per destination',
      canHold: false,
    });
    const nofile = planFor({ facts, connections: 100_000, sourceAddresses: 1 }).find((f) => f.id === 'nofile')!;
    expect(nofile).toMatchObject({
      status: 'fail',
      current: '20000/20000',
      command: `prlimit --pid $$ --nofile=${100_000 + FD_OVERHEAD}:${100_000 + FD_OVERHEAD}`,
    });
  });

  it('counts ports per source address: 28,232 for one, twice that for two', () => {
    const tuned = readFacts(
      makeProc({
        ...THIS_MACHINE,
        limits: 'Max open files            1048576              1048576              files\n',
        status: 'Uid:\t0\nCapEff:\t000001ffffffffff\n',
      }),
    );
    const one = capacityFor({ facts: tuned, connections: 50_000, sourceAddresses: 1 });
    expect(one).toMatchObject({ byPorts: 28_232, canHold: false, binding: 'ephemeral ports per destination' });
    expect(one.lift).toContain('--source-addresses 127.0.0.2,127.0.0.3,127.0.0.4 (loopback needs no setup)');
    expect(
      capacityFor({ facts: tuned, connections: 50_000, sourceAddresses: 1, targetHost: '10.0.0.5' }).lift,
    ).toContain('ip addr add');
    expect(capacityFor({ facts: tuned, connections: 50_000, sourceAddresses: 2 })).toMatchObject({
      byPorts: 56_464,
      canHold: true,
    });
  });

  it('recommends exact commands and only fixes that apply, never tcp_tw_recycle', () => {
    const findings = planFor({ facts, connections: 60_000, sourceAddresses: 1 });
    const byId = Object.fromEntries(findings.map((f) => [f.id, f]));
    expect(byId['net.ipv4.ip_local_port_range']).toMatchObject({
      status: 'fail',
      command: 'sysctl -w net.ipv4.ip_local_port_range="1024 65535"',
      apply: { value: '1024 65535' },
    });
    expect(byId['net.ipv4.tcp_max_syn_backlog']).toMatchObject({
      status: 'warn',
      apply: { name: 'net.ipv4.tcp_max_syn_backlog', value: '4096' },
    });
    expect(byId['net.core.somaxconn']).toMatchObject({ status: 'pass' });
    expect(byId['net.core.somaxconn']!.apply).toBeUndefined();
    expect(findings.some((f) => f.id.includes('tw_recycle') || f.command.includes('tw_recycle'))).toBe(false);
  });
});

describe('tune check advice', () => {
  it('suggests no command on a row that passes: it would lower a limit that is already higher', () => {
    const facts = readFacts(makeProc(THIS_MACHINE));
    const findings = planFor({ facts, connections: 100, sourceAddresses: 1 });
    const passing = findings.filter((f) => f.status === 'pass');
    expect(passing.map((f) => f.id)).toEqual(
      expect.arrayContaining(['nofile', 'fs.nr_open', 'fs.file-max', 'net.netfilter.nf_conntrack_max']),
    );
    expect(passing.filter((f) => f.command !== '').map((f) => `${f.id}: ${f.command}`)).toEqual([]);
    const failing = planFor({ facts, connections: 100_000, sourceAddresses: 1 }).find((f) => f.id === 'nofile')!;
    expect(failing).toMatchObject({ status: 'fail', command: 'prlimit --pid $$ --nofile=100040:100040' });
  });

  it('fails exactly the rows whose limits the capacity line says are short', () => {
    const facts = readFacts(makeProc(THIS_MACHINE));
    const ROW: Record<string, string> = {
      'open files per process': 'nofile',
      'ephemeral ports per destination': 'net.ipv4.ip_local_port_range',
      'conntrack table': 'net.netfilter.nf_conntrack_max',
      memory: 'memory',
    };
    for (const connections of [10_000, 25_000, 50_000, 300_000]) {
      const capacity = capacityFor({ facts, connections, sourceAddresses: 1 });
      const failing = planFor({ facts, connections, sourceAddresses: 1 })
        .filter((f) => f.status === 'fail')
        .map((f) => f.id);
      const short = capacity.shortfalls.map((s) => ROW[s.limit]!);
      expect(failing.filter((id) => Object.values(ROW).includes(id)).sort(), `${connections}`).toEqual(short.sort());
      if (capacity.binding && capacity.isShort) expect(failing, `${connections}`).toContain(ROW[capacity.binding]);
    }
  });
});
