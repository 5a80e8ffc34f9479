/**
 * `npm run bench [-- server|engine|tune|scale|agents|protocols|tail|throughput|soak
 * [MINUTES]]`: the benchmarks that print figures. Loopback only,
 * bounded in count and time. Figures depend on the machine; the goals are ratios.
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

const which = process.argv[2] ?? 'all';
if (which === 'all' || which === 'server') await runServerBench();
if (which === 'all' || which === 'engine') await runEngineBench();
if (which === 'all' || which === 'tune') await runTuneProbeBench();
// 100,000 connections take over two minutes on 2 cores: only when asked for
if (which === 'scale') await runScaleBench();
// 57,000 users twice, over agents in network namespaces (root) and over --workers: only when asked for
if (which === 'agents') await runAgentsBench();
// 10,000 users against each real protocol server: only when asked for
if (which === 'protocols') await runProtocolsBench();
// the event-loop tuning demo of the README, three server setups at 10,000 users: only when asked for
if (which === 'demo') await runDemoBench();
// the RTT tail against a bare uWS echo app, then messages per core against a floor client: about 8 minutes
// (BENCH_TAIL=0 leaves the tail table out of `-- throughput`)
if (which === 'tail' || (which === 'throughput' && process.env.BENCH_TAIL !== '0')) await runTailBench();
if (which === 'throughput') await runThroughputBench();
// ten minutes each of the server fuzz storm and the console: only when asked for
if (which === 'soak') await runSoakBench(Number(process.argv[3] ?? 10));
process.exit(0);
