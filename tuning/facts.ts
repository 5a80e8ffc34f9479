/**
 * Reads the host facts that decide how many connections one process and one host can hold,
 * from an injectable /proc root (tests use fixture trees). A file that is missing or does not
 * parse is `null` (unknown), never an error.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The sysctls sockstorm reads, by name, with their path under /proc/sys. */
export const SYSCTLS = {
  'fs.nr_open': 'fs/nr_open',
  'fs.file-max': 'fs/file-max',
  'net.ipv4.ip_local_port_range': 'net/ipv4/ip_local_port_range',
  'net.ipv4.tcp_keepalive_time': 'net/ipv4/tcp_keepalive_time',
  'net.ipv4.tcp_keepalive_intvl': 'net/ipv4/tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes': 'net/ipv4/tcp_keepalive_probes',
  'net.core.somaxconn': 'net/core/somaxconn',
  'net.ipv4.tcp_max_syn_backlog': 'net/ipv4/tcp_max_syn_backlog',
  'net.ipv4.tcp_tw_reuse': 'net/ipv4/tcp_tw_reuse',
  'net.ipv4.tcp_fin_timeout': 'net/ipv4/tcp_fin_timeout',
  'net.netfilter.nf_conntrack_max': 'net/netfilter/nf_conntrack_max',
  'net.netfilter.nf_conntrack_count': 'net/netfilter/nf_conntrack_count',
  'net.ipv4.tcp_mem': 'net/ipv4/tcp_mem',
} as const;

export type SysctlName = keyof typeof SYSCTLS;

/** What the host says; null means unknown (missing or unreadable). */
export interface HostFacts {
  procRoot: string;
  nofileSoft: number | null;
  nofileHard: number | null;
  /** Raw sysctl values (whitespace-separated numbers). */
  sysctl: Record<SysctlName, number[] | null>;
  /** What the process may still use: the host's MemAvailable, or its cgroup's room when that is less. */
  memAvailableBytes: number | null;
  /** Whether a cgroup (a container's memory limit) set `memAvailableBytes`, not the host. */
  isMemoryCgroupBound: boolean;
  uid: number | null;
  hasSysResource: boolean;
  hasNetAdmin: boolean;
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** How many numbers each sysctl holds (the rest hold one): a file with another count is unknown. */
const FIELDS: Partial<Record<SysctlName, number>> = { 'net.ipv4.ip_local_port_range': 2, 'net.ipv4.tcp_mem': 3 };

/**
 * Parses whitespace-separated non-negative decimal integers, as the kernel writes them; null if
 * any is anything else (`-1`, `1.5`, `1e9`, `0x10`, junk), or if there are not `count` of them.
 */
export function parseNumbers(text: string | null, count?: number): number[] | null {
  if (text === null) return null;
  const parts = text.trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0 || (count !== undefined && parts.length !== count)) return null;
  if (!parts.every((part) => /^\d{1,15}$/.test(part))) return null;
  return parts.map(Number);
}

/** A sysctl's numbers as the planner may trust them: the right count, and a port range whose low end is not above its high. */
export function parseSysctl(name: SysctlName, text: string | null): number[] | null {
  const numbers = parseNumbers(text, FIELDS[name] ?? 1);
  if (numbers && name === 'net.ipv4.ip_local_port_range' && (numbers[0]! > numbers[1]! || numbers[1]! > 65535))
    return null;
  return numbers;
}

/** Soft and hard "Max open files" from a /proc/PID/limits text. */
export function parseLimits(text: string | null): { soft: number | null; hard: number | null } {
  const match = text ? /^Max open files\s+(\S+)\s+(\S+)/m.exec(text) : null;
  const value = (s: string | undefined): number | null =>
    s === undefined ? null : s === 'unlimited' ? Number.MAX_SAFE_INTEGER : /^\d{1,15}$/.test(s) ? Number(s) : null;
  return { soft: value(match?.[1]), hard: value(match?.[2]) };
}

/** Uid and the capabilities that matter, from a /proc/PID/status text. */
export function parseStatus(text: string | null): {
  uid: number | null;
  hasSysResource: boolean;
  hasNetAdmin: boolean;
} {
  const uid = text ? /^Uid:\s+(\d+)/m.exec(text)?.[1] : undefined;
  const capEff = text ? /^CapEff:\s+([0-9a-f]+)/m.exec(text)?.[1] : undefined;
  const caps = capEff ? BigInt(`0x${capEff}`) : 0n;
  return {
    uid: uid === undefined ? null : Number(uid),
    hasSysResource: ((caps >> 24n) & 1n) === 1n,
    hasNetAdmin: ((caps >> 12n) & 1n) === 1n,
  };
}

/** MemAvailable from a /proc/meminfo text, in bytes. */
export function parseMemAvailable(text: string | null): number | null {
  const match = text ? /^MemAvailable:\s+(\d{1,15})\s+kB$/m.exec(text) : null;
  return match ? Number(match[1]) * 1024 : null;
}

// a cgroup "limit" this large is none (v1 writes 2^63 rounded down to a page)
const NO_LIMIT = 2 ** 60;

/**
 * The memory a process's cgroup still allows it, from its /proc/PID/cgroup text and the cgroup
 * mount (`cgroupRoot`, /sys/fs/cgroup): v2's memory.max less memory.current, or v1's
 * memory.limit_in_bytes less memory.usage_in_bytes, each less the inactive page cache the
 * kernel reclaims before it kills (as Kubernetes counts a working set). Its own directory is
 * looked for first, then the mount's root (a container's cgroup namespace shows its own group
 * as the root). Null when no limit is set or none can be read.
 */
export function cgroupMemoryAvailable(cgroupText: string | null, cgroupRoot: string): number | null {
  if (!cgroupText) return null;
  const lines = cgroupText.split('\n').map((line) => line.split(':'));
  const v1 = lines.find((f) => f.length >= 3 && f[1]!.split(',').includes('memory'));
  const v2 = lines.find((f) => f.length >= 3 && f[0] === '0' && f[1] === '');
  const groups: Array<[dir: string, limit: string, usage: string, inactive: string]> = [];
  // a group's path may hold a colon itself: it is everything after the second
  const path = (fields: string[]): string => fields.slice(2).join(':');
  if (v1)
    for (const dir of [join(cgroupRoot, 'memory', path(v1)), join(cgroupRoot, 'memory')])
      groups.push([dir, 'memory.limit_in_bytes', 'memory.usage_in_bytes', 'total_inactive_file']);
  if (v2)
    for (const dir of [join(cgroupRoot, path(v2)), cgroupRoot])
      groups.push([dir, 'memory.max', 'memory.current', 'inactive_file']);
  for (const [dir, limitFile, usageFile, inactiveKey] of groups) {
    const limitText = read(join(dir, limitFile))?.trim();
    if (limitText === undefined) continue;
    const limit = limitText === 'max' ? Infinity : Number(limitText);
    if (!Number.isFinite(limit) || limit >= NO_LIMIT) return null;
    const usage = Number(read(join(dir, usageFile))?.trim() ?? Number.NaN);
    const inactive = Number(
      new RegExp(`^${inactiveKey} (\\d+)$`, 'm').exec(read(join(dir, 'memory.stat')) ?? '')?.[1] ?? 0,
    );
    return Number.isFinite(usage) ? Math.max(0, limit - Math.max(0, usage - inactive)) : limit;
  }
  return null;
}

/**
 * Reads every fact from `procRoot` (default /proc) for process `pid` (default self), and the
 * cgroup's memory from `cgroupRoot` (/sys/fs/cgroup for the real /proc; inside a fixture tree,
 * its `cgroup-fs` folder, so a test never reads the machine's).
 */
export function readFacts(
  procRoot = '/proc',
  pid: number | 'self' = 'self',
  cgroupRoot = procRoot === '/proc' ? '/sys/fs/cgroup' : join(procRoot, 'cgroup-fs'),
): HostFacts {
  const limits = parseLimits(read(join(procRoot, String(pid), 'limits')));
  const status = parseStatus(read(join(procRoot, String(pid), 'status')));
  const sysctl = {} as Record<SysctlName, number[] | null>;
  for (const [name, path] of Object.entries(SYSCTLS) as Array<[SysctlName, string]>) {
    sysctl[name] = parseSysctl(name, read(join(procRoot, 'sys', path)));
  }
  return {
    procRoot,
    nofileSoft: limits.soft,
    nofileHard: limits.hard,
    sysctl,
    ...memory(
      parseMemAvailable(read(join(procRoot, 'meminfo'))),
      cgroupMemoryAvailable(read(join(procRoot, String(pid), 'cgroup')), cgroupRoot),
    ),
    ...status,
  };
}

function memory(
  host: number | null,
  cgroup: number | null,
): Pick<HostFacts, 'memAvailableBytes' | 'isMemoryCgroupBound'> {
  if (cgroup !== null && (host === null || cgroup < host))
    return { memAvailableBytes: cgroup, isMemoryCgroupBound: true };
  return { memAvailableBytes: host, isMemoryCgroupBound: false };
}
