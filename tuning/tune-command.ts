/**
 * `sockstorm tune check|apply|restore|probe`: the shell around the pure planner. Read-only
 * unless `apply`/`restore` is asked for, and `apply` changes nothing without `--yes` and root.
 */
import { join } from 'node:path';
import { readFacts, type HostFacts } from './facts.ts';
import { applyFindings, defaultJournalPath, restoreJournal, type ChangeOutcome } from './apply.ts';
import { capacityFor, planFor, type Capacity, type Finding } from './plan.ts';
import { EXIT } from '../target-server/contract/exit-codes.ts';

/** Options of the tune subcommands. */
export interface TuneFlags {
  connections?: string;
  target?: string;
  sourceAddresses?: string;
  json?: boolean;
  procRoot?: string;
  yes?: boolean;
  persist?: boolean;
  journal?: string;
  pid?: string;
  scope?: string;
  max?: string;
}

/** The defaults of the tune subcommands, in one place (the CLI's --help shows them from here). */
export const TUNE_DEFAULTS = Object.freeze({
  connections: 10_000,
  procRoot: '/proc',
  /** apply: every setting, or `net` for only the network namespace's. */
  scope: 'all',
});

const SYMBOL = { pass: 'ok  ', warn: 'WARN', fail: 'FAIL', unknown: '??  ' } as const;

/** A positive whole count of connections, or what is wrong with it. */
export function parseConnections(text: string | undefined, fallback: number): number | string {
  if (text === undefined) return fallback;
  return /^\d+$/.test(text) && Number(text) > 0
    ? Number(text)
    : `--connections must be a positive integer, not "${text}"`;
}

// the destination as host:port: capacity is per destination, and a URL's credentials stay out of the output
function formatCapacity(c: Capacity, target: string | undefined): string[] {
  const show = (n: number | null): string => (n === null ? 'unknown' : n.toLocaleString('en-US'));
  return [
    `capacity for ${c.wanted.toLocaleString('en-US')} connections to ${target ?? 'one destination'}: ` +
      `${Number.isFinite(c.capacity) ? c.capacity.toLocaleString('en-US') : 'unknown'} ` +
      `(${c.canHold ? 'can hold' : c.isShort ? 'CANNOT hold' : 'CANNOT TELL'})`,
    ...(c.unknown.length > 0
      ? [
          `  unknown: ${c.unknown.join(', ')} (unreadable under the proc root): the host is not called ` +
            `able to hold it until they are known`,
        ]
      : []),
    `  open files per process ${show(c.byFds)}, ports × source addresses ${show(c.byPorts)}, ` +
      `conntrack room ${show(c.byConntrack)}, memory ${show(c.byMemory)}`,
    ...(c.binding ? [`  binding limit: ${c.binding}${c.lift && !c.canHold ? `; ${c.lift}` : ''}`] : []),
    ...c.shortfalls.slice(1).map((s) => `  then: ${s.limit} (${show(s.capacity)}); ${s.lift}`),
  ];
}

function formatFindings(findings: Finding[]): string[] {
  return findings.map(
    (f) =>
      `${SYMBOL[f.status]} ${f.id.padEnd(32)} ${f.current.padEnd(22)} want ${f.recommended.padEnd(26)} ${f.command}`,
  );
}

function check(flags: TuneFlags): { facts: HostFacts; findings: Finding[]; capacity: Capacity } | string {
  const connections = parseConnections(flags.connections, TUNE_DEFAULTS.connections);
  if (typeof connections === 'string') return connections;
  const sourceAddresses = flags.sourceAddresses ? flags.sourceAddresses.split(',').filter(Boolean).length : 1;
  const facts = readFacts(flags.procRoot ?? TUNE_DEFAULTS.procRoot);
  let targetHost: string | undefined;
  if (flags.target) {
    try {
      targetHost = new URL(flags.target).hostname;
    } catch {
      return `--target "${flags.target}" is not a URL`;
    }
  }
  const input = { facts, connections, sourceAddresses, targetHost };
  return { facts, findings: planFor(input), capacity: capacityFor(input) };
}

function printOutcomes(title: string, outcomes: ChangeOutcome[]): void {
  console.log(title);
  for (const o of outcomes) console.log(`  ${o.ok ? 'ok  ' : 'FAIL'} ${o.name}: ${o.from} → ${o.to}  ${o.message}`);
}

/** Runs one tune subcommand; resolves with the exit code. */
export async function runTune(action: string, flags: TuneFlags): Promise<number> {
  if (action === 'restore') {
    try {
      const outcomes = restoreJournal(flags.journal ?? defaultJournalPath(), flags.procRoot ?? TUNE_DEFAULTS.procRoot);
      printOutcomes('restored:', outcomes);
      if (outcomes.every((o) => o.ok)) return EXIT.passed;
      console.error(
        'sockstorm tune restore: some settings were not restored (above); the journal is kept, so ' +
          'restore can be run again',
      );
      return EXIT.error;
    } catch (error) {
      console.error(`sockstorm tune restore: ${(error as Error).message}`);
      return EXIT.error;
    }
  }
  const result = check(flags);
  if (typeof result === 'string') {
    console.error(`sockstorm tune: ${result}`);
    return EXIT.invalid;
  }
  const { facts, findings, capacity } = result;
  if (action === 'check') {
    if (flags.json)
      console.log(
        JSON.stringify(
          {
            canHold: capacity.canHold,
            capacity,
            findings,
            privileges: { uid: facts.uid, hasSysResource: facts.hasSysResource, hasNetAdmin: facts.hasNetAdmin },
          },
          null,
          2,
        ),
      );
    else {
      console.log(
        `privileges: uid ${facts.uid ?? 'unknown'}, CAP_SYS_RESOURCE ` +
          `${facts.hasSysResource ? 'yes' : 'no'}, CAP_NET_ADMIN ${facts.hasNetAdmin ? 'yes' : 'no'}`,
      );
      for (const line of [
        ...formatFindings(findings),
        ...formatCapacity(capacity, flags.target && new URL(flags.target).host),
      ])
        console.log(line);
    }
    return capacity.canHold ? EXIT.passed : EXIT.host;
  }
  if (action === 'apply') {
    const scoped = findings.filter(
      (f) => f.apply && (flags.scope !== 'net' || (f.apply.kind === 'sysctl' && f.apply.name.startsWith('net.'))),
    );
    if (scoped.length === 0) {
      console.log('nothing to change: every applicable check passes');
      return EXIT.passed;
    }
    console.log('would change:');
    for (const f of scoped)
      console.log(
        `  ${f.id}: ${f.current} → ${f.apply!.kind === 'sysctl' ? f.apply!.value : f.recommended}   (${f.command})`,
      );
    if (!flags.yes) {
      console.log('nothing changed: run again with --yes to apply (as root)');
      return EXIT.passed;
    }
    if (facts.uid !== 0) {
      console.error(
        `sockstorm tune apply: refused: writing sysctls needs root (uid 0); this is uid ${facts.uid}. ` +
          `Nothing was changed.`,
      );
      return EXIT.error;
    }
    const outcomes = applyFindings(scoped, {
      procRoot: flags.procRoot ?? TUNE_DEFAULTS.procRoot,
      journalPath: flags.journal ?? defaultJournalPath(),
      pid: flags.pid ? Number(flags.pid) : process.ppid,
      persistFile: flags.persist
        ? join(process.env.SOCKSTORM_SYSCTL_DIR ?? '/etc/sysctl.d', '99-sockstorm.conf')
        : null,
    });
    printOutcomes(
      `applied (journal ${flags.journal ?? defaultJournalPath()}; undo with sockstorm tune restore):`,
      outcomes,
    );
    return outcomes.every((o) => o.ok) ? EXIT.passed : EXIT.error;
  }
  console.error(
    `sockstorm tune: unknown action "${action}"; use check, apply, restore or probe (probe runs ` +
      `through the sockstorm CLI)`,
  );
  return EXIT.invalid;
}
