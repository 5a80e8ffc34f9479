/**
 * Pure planning: from host facts and a wanted connection count, the findings (pass, warn or
 * fail, current and recommended value, the exact command) and the capacity, which is the
 * least of open files per process, ports × source addresses per destination, conntrack room
 * and memory at the measured cost per connection.
 */
import type { HostFacts, SysctlName } from './facts.ts';

/** What a finding says. */
export type Status = 'pass' | 'warn' | 'fail' | 'unknown';

/** One check. `sysctl` findings can be applied; `nofile` is raised with prlimit. */
export interface Finding {
  id: string;
  status: Status;
  current: string;
  recommended: string;
  command: string;
  why: string;
  apply?: { kind: 'sysctl'; name: SysctlName; value: string } | { kind: 'nofile'; value: number };
}

/** The capacity for N connections to one destination. */
export interface Capacity {
  wanted: number;
  byFds: number | null;
  byPorts: number | null;
  byConntrack: number | null;
  byMemory: number | null;
  /** The least of the known limits (Infinity when none is known). */
  capacity: number;
  /** Which limit binds, and what lifts it. */
  binding: string | null;
  lift: string | null;
  /** True only when every deciding fact is known and the least limit reaches the wanted count. */
  canHold: boolean;
  /** The known limits alone are below the wanted count (false when they reach it, even with unknowns). */
  isShort: boolean;
  /** Deciding facts that could not be read: while any is unknown, the host is never called able to hold N. */
  unknown: string[];
  /** Every limit below the wanted count, least first, with what lifts it (lifting one reveals the next). */
  shortfalls: Array<{ limit: string; capacity: number; lift: string }>;
}

/** Client-side RSS per VU measured by `npm run bench` (about 9.4 KiB) plus kernel socket memory. */
export const COST_PER_CONNECTION_BYTES = 16 * 1024;
/** Descriptors a sockstorm generator needs besides its sockets (about 30 measured, by `tune probe`). */
export const FD_OVERHEAD = 40;

interface PlanInput {
  facts: HostFacts;
  connections: number;
  sourceAddresses: number;
  /** Generator processes the fleet is split over (`--workers`); each has its own fd limit. */
  processes?: number;
  /** The destination's host, when known: loopback targets can use 127.0.0.x sources with no setup. */
  targetHost?: string;
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host.startsWith('127.') || host === '::1' || host === '[::1]';
}

/** What lifts the port limit: how many source addresses N needs, and how to get them. */
export function sourceAddressAdvice(connections: number, portsPerAddress: number | null, targetHost?: string): string {
  const needed = portsPerAddress ? Math.ceil(connections / portsPerAddress) : 2;
  if (targetHost === undefined || isLoopbackHost(targetHost)) {
    const list = Array.from({ length: Math.min(needed + 1, 250) }, (_, i) => `127.0.0.${i + 2}`).join(',');
    return (
      `spread over ${needed + 1} source addresses (one spare): --source-addresses ${list} (loopback ` +
      `needs no setup), or widen net.ipv4.ip_local_port_range`
    );
  }
  return (
    `spread over ${needed + 1} source addresses: add them to the interface (ip addr add ADDRESS/32 ` +
    `dev IFACE) and pass --source-addresses, or widen net.ipv4.ip_local_port_range`
  );
}

function first(values: number[] | null): number | null {
  return values?.[0] ?? null;
}

function sysctlFinding(
  facts: HostFacts,
  name: SysctlName,
  minimum: number,
  why: string,
  severity: 'warn' | 'fail' = 'warn',
): Finding {
  const current = first(facts.sysctl[name]);
  const status: Status = current === null ? 'unknown' : current >= minimum ? 'pass' : severity;
  return {
    id: name,
    status,
    current: current === null ? 'unknown' : String(current),
    recommended: `>= ${minimum}`,
    command: `sysctl -w ${name}=${minimum}`,
    why,
    ...(status === 'warn' || status === 'fail'
      ? { apply: { kind: 'sysctl' as const, name, value: String(minimum) } }
      : {}),
  };
}

/** Ephemeral ports one source address has per destination (`net.ipv4.ip_local_port_range`), null when unknown. */
export function portRange(facts: HostFacts): number | null {
  const range = facts.sysctl['net.ipv4.ip_local_port_range'];
  return range && range.length >= 2 ? range[1]! - range[0]! + 1 : null;
}

function processesFor(connections: number, fdsPerProcess: number | null): string {
  if (!fdsPerProcess) return 'several generator processes';
  const count = Math.ceil(connections / Math.max(1, fdsPerProcess));
  return `${count} generator process${count === 1 ? '' : 'es'}`;
}

/** Computes the capacity and names what binds it. */
export function capacityFor({ facts, connections, sourceAddresses, processes = 1, targetHost }: PlanInput): Capacity {
  const hard = facts.nofileHard;
  const perProcess = hard === null ? null : Math.max(0, Math.min(hard, Number.MAX_SAFE_INTEGER) - FD_OVERHEAD);
  const byFds = perProcess === null ? null : perProcess * processes;
  const ports = portRange(facts);
  const byPorts = ports === null ? null : ports * Math.max(1, sourceAddresses);
  const ctMax = first(facts.sysctl['net.netfilter.nf_conntrack_max']);
  const ctCount = first(facts.sysctl['net.netfilter.nf_conntrack_count']) ?? 0;
  // on loopback both ends of a connection share one conntrack entry
  const byConntrack = ctMax === null ? null : Math.max(0, ctMax - ctCount);
  const byMemory =
    facts.memAvailableBytes === null ? null : Math.floor(facts.memAvailableBytes / COST_PER_CONNECTION_BYTES);
  const limits: Array<[string, number | null, string]> = [
    [
      processes > 1 ? `open files over ${processes} processes` : 'open files per process',
      byFds,
      facts.hasSysResource
        ? 'raise the limit: sockstorm tune apply --yes'
        : `this process cannot raise its hard limit (no CAP_SYS_RESOURCE): run ` +
          `${processesFor(connections, perProcess)} (--workers)`,
    ],
    ['ephemeral ports per destination', byPorts, sourceAddressAdvice(connections, ports, targetHost)],
    ['conntrack table', byConntrack, 'raise net.netfilter.nf_conntrack_max'],
    facts.isMemoryCgroupBound
      ? [
          'memory (cgroup limit)',
          byMemory,
          "raise the container's memory limit, or run more agents with fewer users each",
        ]
      : ['memory', byMemory, 'more memory, or fewer connections per host'],
  ];
  const known = limits.filter((l): l is [string, number, string] => l[1] !== null);
  const least = known.reduce<[string, number, string] | null>(
    (min, l) => (min === null || l[1] < min[1] ? l : min),
    null,
  );
  const capacity = least?.[1] ?? Infinity;
  // conntrack may be absent (the module is not loaded: no table, no limit); the others always apply
  const unknown = limits.filter((l) => l[1] === null && l[0] !== 'conntrack table').map((l) => l[0]);
  const isShort = capacity < connections;
  const canHold = !isShort && unknown.length === 0;
  return {
    wanted: connections,
    byFds,
    byPorts,
    byConntrack,
    byMemory,
    capacity,
    binding: least?.[0] ?? null,
    lift: least?.[2] ?? null,
    canHold,
    isShort,
    unknown,
    shortfalls: known
      .filter((l) => l[1] < connections)
      .sort((a, b) => a[1] - b[1])
      .map(([limit, value, lift]) => ({ limit, capacity: value, lift })),
  };
}

/** Every finding for N connections. */
export function planFor(input: PlanInput): Finding[] {
  const { facts, connections, sourceAddresses } = input;
  const needFds = connections + FD_OVERHEAD;
  const hard = facts.nofileHard;
  const findings: Finding[] = [];
  const canRaise = facts.hasSysResource;
  findings.push({
    id: 'nofile',
    current: hard === null ? 'unknown' : `${facts.nofileSoft}/${hard}`,
    recommended: `>= ${needFds}`,
    status: hard === null ? 'unknown' : hard >= needFds ? 'pass' : 'fail',
    command: `prlimit --pid $$ --nofile=${needFds}:${needFds}`,
    why: canRaise
      ? 'each connection is a file descriptor'
      : 'each connection is a file descriptor; this process lacks CAP_SYS_RESOURCE, so the hard limit ' +
        'cannot be raised here: split the fleet over processes',
    ...(hard !== null && hard < needFds ? { apply: { kind: 'nofile' as const, value: needFds } } : {}),
  });
  findings.push(
    sysctlFinding(facts, 'fs.nr_open', needFds, 'the ceiling of any process fd limit; raised before the limit', 'fail'),
  );
  findings.push(
    sysctlFinding(
      facts,
      'fs.file-max',
      connections * 2 + 65_536,
      'system-wide open files (both ends on loopback)',
      'fail',
    ),
  );
  const ports = portRange(facts);
  const neededPorts = Math.ceil(connections / Math.max(1, sourceAddresses));
  const range = facts.sysctl['net.ipv4.ip_local_port_range'];
  findings.push({
    id: 'net.ipv4.ip_local_port_range',
    current: range ? range.join(' ') : 'unknown',
    recommended:
      ports !== null && ports >= neededPorts ? `${ports} ports` : `>= ${neededPorts} ports per source address`,
    // short of ports is short of capacity: a FAIL, as the capacity line says (widening the range fixes it when it can)
    status: ports === null ? 'unknown' : ports >= neededPorts ? 'pass' : 'fail',
    command:
      neededPorts <= 64_512
        ? 'sysctl -w net.ipv4.ip_local_port_range="1024 65535"'
        : `use ${Math.ceil(connections / 64_512)} or more source addresses`,
    why: `one local port per connection to a destination, per source address (${sourceAddresses} in use)`,
    ...(ports !== null && ports < neededPorts && neededPorts <= 64_512
      ? { apply: { kind: 'sysctl' as const, name: 'net.ipv4.ip_local_port_range' as const, value: '1024 65535' } }
      : {}),
  });
  findings.push(
    sysctlFinding(facts, 'net.core.somaxconn', 4096, 'accept backlog of a listening server during a connect storm'),
  );
  findings.push(
    sysctlFinding(facts, 'net.ipv4.tcp_max_syn_backlog', 4096, 'half-open connections queued during a handshake surge'),
  );
  findings.push(
    sysctlFinding(
      facts,
      'net.ipv4.tcp_tw_reuse',
      1,
      'reuse TIME_WAIT ports for new outgoing connections after a mass disconnect',
    ),
  );
  const ctMax = first(facts.sysctl['net.netfilter.nf_conntrack_max']);
  if (ctMax !== null)
    findings.push(
      sysctlFinding(
        facts,
        'net.netfilter.nf_conntrack_max',
        connections * 2 + 65_536,
        'a full conntrack table drops new connections silently',
        'fail',
      ),
    );
  const keepalive = first(facts.sysctl['net.ipv4.tcp_keepalive_time']);
  findings.push({
    id: 'net.ipv4.tcp_keepalive_time',
    status: keepalive === null ? 'unknown' : 'pass',
    current: String(keepalive ?? 'unknown'),
    recommended: 'any (WebSocket pings keep connections alive)',
    command: '',
    why: 'dead peers are found by WebSocket pings, not TCP keepalive',
  });
  const tcpMem = facts.sysctl['net.ipv4.tcp_mem'];
  if (tcpMem && tcpMem.length === 3) {
    const neededPages = Math.ceil((connections * 8 * 1024) / 4096);
    findings.push({
      id: 'net.ipv4.tcp_mem',
      status: tcpMem[2]! >= neededPages ? 'pass' : 'warn',
      current: tcpMem.join(' '),
      recommended: `max >= ${neededPages} pages`,
      command: `sysctl -w net.ipv4.tcp_mem="${tcpMem[0]} ${tcpMem[1]} ${Math.max(tcpMem[2]!, neededPages)}"`,
      why: 'TCP buffer memory for all sockets (about 8 KiB each when idle)',
    });
  }
  const memory = facts.memAvailableBytes;
  const neededMemory = connections * COST_PER_CONNECTION_BYTES;
  findings.push({
    id: 'memory',
    status: memory === null ? 'unknown' : memory >= neededMemory ? 'pass' : 'fail',
    current:
      memory === null
        ? 'unknown'
        : `${Math.round(memory / 1048576)} MiB available${facts.isMemoryCgroupBound ? ' (cgroup limit)' : ''}`,
    recommended: `>= ${Math.round(neededMemory / 1048576)} MiB`,
    command: '',
    why: `about ${COST_PER_CONNECTION_BYTES / 1024} KiB per connection (generator RSS and kernel buffers)`,
  });
  // a row that passes suggests nothing: its "recommended" minimum is below what is set, and
  // running that command would lower the limit (prlimit --nofile=10040 where 20000 was set)
  return findings.map((f) => (f.status === 'warn' || f.status === 'fail' ? f : { ...f, command: '' }));
}
