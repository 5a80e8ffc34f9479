/**
 * graphql-ws (the `graphql-transport-ws` subprotocol): `connection_init` with the connect
 * payload template, and the user is open at `connection_ack`; the server's pings get pongs.
 * A message is a subscribe payload (`{"query":"subscription { ticks }","variables":{…}}`, or a
 * bare query): each gets an id. `next` carries the payload (its `data`) for fan-out and checks,
 * the subscription id as the topic; `error` is classified as `graphql.error`.
 */
import { MAX_TARGET_JSON_DEPTH, readTargetJson, TOO_DEEP } from './target-json.ts';
import type { Codec, CodecEvent } from './codec.ts';

interface State {
  nextId: number;
}

const BAD_MESSAGE = 'graphql.bad_message';
const TOO_DEEP_MESSAGE: CodecEvent[] = [
  {
    kind: 'error',
    errorClass: BAD_MESSAGE,
    message: `a message nested deeper than ${MAX_TARGET_JSON_DEPTH} levels`,
    isFatal: false,
  },
];

function asObject(value: unknown): Record<string, unknown> | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

function parse(text: string): Record<string, unknown> | null {
  return asObject(readTargetJson(text));
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
      return {
        frames: [JSON.stringify(payload ? { type: 'connection_init', payload } : { type: 'connection_init' })],
        isReady: false,
      };
    },
    decode(_, data, isBinary) {
      if (isBinary) return [];
      // read under the depth bound: `next` and `error` serialise their payload again
      const read = readTargetJson(data.toString('utf8'));
      if (read === TOO_DEEP) return TOO_DEEP_MESSAGE;
      const message = asObject(read);
      if (!message)
        return [
          {
            kind: 'error',
            errorClass: BAD_MESSAGE,
            message: 'a frame that is not a graphql-ws message',
            isFatal: false,
          },
        ];
      switch (message.type) {
        case 'connection_ack':
          return [{ kind: 'ready' }];
        case 'ping':
          return [{ kind: 'reply', frames: ['{"type":"pong"}'] }];
        case 'next': {
          const payload = message.payload as { data?: unknown } | undefined;
          return [
            {
              kind: 'message',
              text: JSON.stringify(payload?.data ?? payload ?? null),
              topic: String(message.id ?? 'default'),
            },
          ];
        }
        case 'error':
          return [
            {
              kind: 'error',
              errorClass: 'graphql.error',
              message: JSON.stringify(message.payload ?? null).slice(0, 200),
              isFatal: false,
            },
          ];
        default:
          return [];
      }
    },
    encode(state, text) {
      const s = state as State;
      const payload = parse(text) ?? { query: text };
      return [JSON.stringify({ id: String(++s.nextId), type: 'subscribe', payload })];
    },
    badPacketClass: BAD_MESSAGE,
    keepalive: null,
  };
}
