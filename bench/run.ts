/**
 * `npm run bench [-- SECTION... [MINUTES]]` (server, engine, tune, scale, agents, protocols, demo,
 * tail, throughput, soak; none: server, engine and tune): the benchmarks that print figures,
 * several in one run. Loopback only, bounded in count and time. Figures depend on the machine; the goals are ratios.
 */
import { runEngineBench } from './engine-vs-minimal.ts';
import { runServerBench } from './server-fanout.ts';
import { runTuneProbeBench } from './tune-probe.ts';
import { runScaleBench } from './scale.ts';
import { runSoakBench } from './soak.ts';
import { runAgentsBench } from './agents.ts';
import { runDemoBench } from './demo.ts';
import { runProtocolsBench } from './protocols.ts';
import { runTailBench } from './rtt-tail.ts';
import { runThroughputBench } from './throughput.ts';

// sections run in the order of this list, whatever order they were named in; a number after
// `soak` is its minutes
const SECTIONS = ['server', 'engine', 'tune', 'scale', 'agents', 'protocols', 'demo', 'tail', 'throughput', 'soak'];
const args = process.argv.slice(2);
const minutes = args.find((a) => /^\d+(\.\d+)?$/.test(a));
const named = new Set(args.filter((a) => a !== minutes && a !== 'all'));
const unknown = [...named].filter((a) => !SECTIONS.includes(a));
if (unknown.length > 0) {
  console.error(`unknown bench section ${unknown.join(', ')}: one or more of ${SECTIONS.join(', ')}`);
  process.exit(2);
}
const isAll = named.size === 0;
const has = (section: string): boolean => named.has(section);
if (isAll || has('server')) await runServerBench();
if (isAll || has('engine')) await runEngineBench();
if (isAll || has('tune')) await runTuneProbeBench();
// 100,000 connections take over two minutes on 2 cores: only when asked for
if (has('scale')) await runScaleBench();
// 57,000 users twice, over agents in network namespaces (root) and over --workers: only when asked for
if (has('agents')) await runAgentsBench();
// 10,000 users against each real protocol server: only when asked for
if (has('protocols')) await runProtocolsBench();
// the event-loop tuning demo of the README, three server setups at 10,000 users: only when asked for
if (has('demo')) await runDemoBench();
// the RTT tail against a bare uWS echo app, then messages per core against a floor client: about 13 minutes
// (BENCH_TAIL=0 leaves the tail table out of `-- throughput`)
if (has('tail') || (has('throughput') && process.env.BENCH_TAIL !== '0')) await runTailBench();
if (has('throughput')) await runThroughputBench();
// ten minutes each of the server fuzz storm and the console: only when asked for
if (has('soak')) await runSoakBench(Number(minutes ?? 10));
process.exit(0);
