/**
 * The floor of the RTT-tail bench: a bare uWebSockets.js echo app, nothing on a frame's path
 * but `ws.send(message, isBinary)`. No hub, no counters, no loop monitor, no admin API: what
 * the bundled server adds to an echo's round trip is the difference between the two. Its users
 * subscribe to the topics their URL names (`?topics=`), as the bundled server's do: uWS's own
 * cost of a subscribed socket (at 18,000 users subscribed to one topic, about 0.3 ms on the
 * RTT p99 here) is then on both sides, and not counted against the bundled server's code.
 *
 * Its route has the bundled server's default behaviour (frame limit, idle timeout, no
 * compression, backpressure limit and close on it), so the two differ only in what runs in
 * JavaScript. uWS is loaded as the server loads it (target-server/uws-engine.ts owns uWS), so
 * a missing native binary is an error here too, never the slow JavaScript fallback.
 *
 *   node BUNDLE/bare-uws-echo.mjs   prints {"event":"listening","port":P} on stdout; stops on
 *                                   SIGTERM, SIGINT or the end of stdin
 */
import { DEFAULT_SERVER_CONFIG, parseTopicsParam } from '../target-server/contract/wire.ts';
import { loadNativeUws } from '../target-server/uws-engine.ts';

const loaded = loadNativeUws();
if (!loaded.ok) {
  process.stderr.write(`bare-uws-echo: ${loaded.reason}\n`);
  process.exit(1);
}
const uws = loaded.uws;
const config = DEFAULT_SERVER_CONFIG;

const app = uws.App().ws<{ topics: string[] }>('/*', {
  maxPayloadLength: config.maxPayload,
  idleTimeout: config.idleTimeout,
  compression: uws.DISABLED,
  maxBackpressure: config.maxBackpressure,
  closeOnBackpressureLimit: 1,
  // a user subscribes at open to the topics its URL names (`?topics=a,b`), as the bundled
  // server's users do: uWS's own bookkeeping of a subscribed socket is then on both sides
  upgrade: (res, req, context) => {
    const topics = parseTopicsParam(decodeURIComponent(req.getQuery('topics') ?? ''));
    const key = req.getHeader('sec-websocket-key');
    const protocol = req.getHeader('sec-websocket-protocol');
    res.upgrade({ topics }, key, protocol, req.getHeader('sec-websocket-extensions'), context);
  },
  open: (ws) => {
    for (const topic of ws.getUserData().topics) ws.subscribe(topic);
  },
  message: (ws, message, isBinary) => {
    ws.send(message, isBinary);
  },
});

app.listen('127.0.0.1', 0, (socket) => {
  if (!socket) {
    process.stderr.write('bare-uws-echo: cannot listen on 127.0.0.1\n');
    process.exit(1);
  }
  const port = uws.us_socket_local_port(socket as unknown as Parameters<typeof uws.us_socket_local_port>[0]);
  process.stdout.write(`${JSON.stringify({ event: 'listening', port, pid: process.pid })}\n`);
  const stop = (): void => {
    uws.us_listen_socket_close(socket);
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // the bench holds the other end of stdin: when it is gone, however it went, so is this app
  process.stdin.on('end', stop).on('close', stop).on('error', stop).resume();
});
