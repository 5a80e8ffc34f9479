/**
 * A shard: one engine in its own process (its own fd limit and event loop), driven by a
 * coordinator over IPC. It sends its snapshots (with encoded histograms) every second and
 * its live counts ten times a second, and exits once stopped.
 */
import { createEngine, type Engine } from './engine.ts';
import type { FromShard, ToShard } from './shard-protocol.ts';

function send(message: FromShard): void {
  process.send?.(message);
}

let engine: Engine | null = null;
let liveTimer: NodeJS.Timeout | null = null;

process.on('message', (message: ToShard) => {
  if (message.type === 'init') {
    createEngine({ ...message.options, isShard: true, workers: 1 }).then((created) => {
      engine = created;
      engine.subscribe((snapshot) => { if (!snapshot.isStopped) send({ type: 'snapshot', snapshot }); });
      liveTimer = setInterval(() => send({ type: 'live', ...engine!.live() }), 100);
      send({ type: 'ready' });
      send({ type: 'snapshot', snapshot: engine.getSnapshot() });
    }, (error: Error & { code?: string }) => send({ type: 'failed', message: error.message, code: error.code }));
  } else if (message.type === 'command' && engine) {
    void engine.dispatch(message.command).then((result) => send({ type: 'result', id: message.id, result, live: engine!.live() }));
  } else if (message.type === 'stop') {
    if (liveTimer) clearInterval(liveTimer);
    const stopping = engine ? engine.stop() : Promise.resolve();
    void stopping.then(() => {
      if (engine) send({ type: 'stopped', snapshot: engine.getSnapshot() });
      process.disconnect?.();
    });
  }
});
// the coordinator went away (stopped us, or died however it died): do not linger holding
// sockets; the kernel closes them with the process
process.on('disconnect', () => process.exit(0));
// a terminal's Ctrl+C reaches the whole process group: the coordinator decides what it means
process.on('SIGINT', () => {});
