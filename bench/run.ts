/**
 * `npm run bench [-- server|engine]`: the benchmarks that print figures. Loopback only,
 * bounded in count and time. Figures depend on the machine; the goals are ratios.
 */
import { runEngineBench } from './engine-vs-minimal.ts';
import { runServerBench } from './server-fanout.ts';

const which = process.argv[2] ?? 'all';
if (which === 'all' || which === 'server') await runServerBench();
if (which === 'all' || which === 'engine') await runEngineBench();
process.exit(0);
