/**
 * A shard: one local fleet in its own process (its own fd limit and event loop), served to
 * the engine shell over Node IPC; it exits once stopped.
 */
import { readToPart } from './part-messages.ts';
import type { FromPart } from './part-protocol.ts';
import { servePart } from './serve-part.ts';

const stop = servePart(
  {
    send: (message: FromPart) => {
      process.send?.(message);
    },
    onMessage: (listener) => {
      // the parent is ours, but a message is checked wherever it comes from; one it cannot read is said and dropped
      process.on('message', (message: unknown) => {
        const checked = readToPart(message);
        if (checked.ok) listener(checked.message);
        else process.stderr.write(`sockstorm shard: refused a bad message: ${checked.reason}\n`);
      });
    },
  },
  { onStopped: () => setImmediate(() => process.disconnect?.()) },
);
// the shell went away (stopped us, or died however it died): do not linger holding sockets;
// the kernel closes them with the process
process.on('disconnect', () => void stop().finally(() => process.exit(0)));
// a terminal's Ctrl+C reaches the whole process group: the shell decides what it means
process.on('SIGINT', () => {});
