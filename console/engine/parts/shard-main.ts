/**
 * A shard: one local fleet in its own process (its own fd limit and event loop), served to
 * the engine shell over Node IPC; it exits once stopped.
 */
import type { FromPart, ToPart } from './part-protocol.ts';
import { servePart } from './serve-part.ts';

const stop = servePart(
  {
    send: (message: FromPart) => {
      process.send?.(message);
    },
    onMessage: (listener) => {
      process.on('message', (message: ToPart) => listener(message));
    },
  },
  { onStopped: () => setImmediate(() => process.disconnect?.()) },
);
// the shell went away (stopped us, or died however it died): do not linger holding sockets;
// the kernel closes them with the process
process.on('disconnect', () => void stop().finally(() => process.exit(0)));
// a terminal's Ctrl+C reaches the whole process group: the shell decides what it means
process.on('SIGINT', () => {});
