import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** What a fixture /proc tree holds; a value of null leaves the file out. */
export interface ProcFixture {
  limits?: string | null;
  status?: string | null;
  meminfo?: string | null;
  sys?: Record<string, string | null>;
}

/** This machine as the brief describes it: fd limit 20000 that cannot be raised. */
export const THIS_MACHINE: Required<ProcFixture> = {
  limits:
    'Limit                     Soft Limit           Hard Limit           Units     \nMax open files  ' +
    '          20000                20000                files     \n',
  status: 'Name:\tnode\nUid:\t0\t0\t0\t0\nCapEff:\t000001fffeffffff\n',
  meminfo: 'MemTotal:       24000000 kB\nMemAvailable:   20000000 kB\n',
  sys: {
    'fs/nr_open': '1048576',
    'fs/file-max': '2466160',
    'net/ipv4/ip_local_port_range': '32768\t60999',
    'net/ipv4/tcp_keepalive_time': '7200',
    'net/ipv4/tcp_keepalive_intvl': '75',
    'net/ipv4/tcp_keepalive_probes': '9',
    'net/core/somaxconn': '4096',
    'net/ipv4/tcp_max_syn_backlog': '2048',
    'net/ipv4/tcp_tw_reuse': '2',
    'net/ipv4/tcp_fin_timeout': '60',
    'net/netfilter/nf_conntrack_max': '262144',
    'net/netfilter/nf_conntrack_count': '144',
    'net/ipv4/tcp_mem': '287898\t383865\t575796',
  },
};

/** Writes a fixture /proc tree and returns its root. */
export function makeProc(fixture: ProcFixture): string {
  const root = mkdtempSync(join(tmpdir(), 'sockstorm-proc-'));
  const write = (path: string, text: string | null | undefined): void => {
    if (text === null || text === undefined) return;
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  write('self/limits', fixture.limits);
  write('self/status', fixture.status);
  write('meminfo', fixture.meminfo);
  for (const [path, text] of Object.entries(fixture.sys ?? {})) write(join('sys', path), text);
  return root;
}
