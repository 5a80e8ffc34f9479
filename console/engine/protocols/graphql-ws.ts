/**
 * graphql-ws (the `graphql-transport-ws` subprotocol): `connection_init` with the connect
 * payload template, and the user is open at `connection_ack`; the server's pings get pongs.
 * A message is a subscribe payload (`{"query":"subscription { ticks }","variables":{…}}`, or a
 * bare query): each gets an id. `next` carries the payload (its `data`) for fan-out and checks,
 * the subscription id as the topic; `error` is classified as `graphql.error`.
 */
import type { Codec } from './codec.ts';

interface State {
  nextId: number;
}

function parse(text: string): Record<string, unknown> | null {
  try {
    const value = JSON.parse(text) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The graphql-ws codec. */
export function graphqlWsCodec(): Codec {
  return {
    name: 'graphql-ws',
    url: (base) => base,
    protocols: (given) => ['graphql-transport-ws', ...given.filter((p) => p !== 'graphql-transport-ws')],
    init: (): State => ({ nextId: 0 }),
    onUpgrade(_, connect) {
      const payload = connect ? parse(connect) : null;
      return { frames: [JSON.stringify(payload ? { type: 'connection_init', payload } : { type: 'connection_init' })], isReady: false };
    },
    decode(_, data, isBinary) {
      if (isBinary) return [];
      const message = parse(data.toString('utf8'));
      if (!message) return [{ kind: 'error', errorClass: 'graphql.bad_message', message: 'a frame that is not a graphql-ws message', isFatal: false }];
      switch (message.type) {
        case 'connection_ack':
          return [{ kind: 'ready' }];
        case 'ping':
          return [{ kind: 'reply', frames: ['{"type":"pong"}'] }];
        case 'next': {
          const payload = message.payload as { data?: unknown } | undefined;
          return [{ kind: 'message', text: JSON.stringify(payload?.data ?? payload ?? null), topic: String(message.id ?? 'default') }];
        }
        case 'error':
          return [{ kind: 'error', errorClass: 'graphql.error', message: JSON.stringify(message.payload ?? null).slice(0, 200), isFatal: false }];
        default:
          return [];
      }
    },
    encode(state, text) {
      const s = state as State;
      const payload = parse(text) ?? { query: text };
      return [JSON.stringify({ id: String(++s.nextId), type: 'subscribe', payload })];
    },
    keepalive: null,
  };
}
