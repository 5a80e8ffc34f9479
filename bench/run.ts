/**
 * `npm run bench [-- server|engine|tune]`: the benchmarks that print figures. Loopback only,
 * bounded in count and time. Figures depend on the machine; the goals are ratios.
 */
import { runEngineBench } from './engine-vs-minimal.ts';
import { runServerBench } from './server-fanout.ts';
import { runTuneProbeBench } from './tune-probe.ts';

const which = process.argv[2] ?? 'all';
if (which === 'all' || which === 'server') await runServerBench();
if (which === 'all' || which === 'engine') await runEngineBench();
if (which === 'all' || which === 'tune') await runTuneProbeBench();
process.exit(0);
