/**
 * Raw WebSocket: no connect steps (a user is open at the upgrade), frames are the messages
 * themselves, templates are sent as written (`{"event":"subscribe","channel":"ticker"}`).
 */
import type { Codec } from './codec.ts';

const NO_EVENTS: [] = [];

/** The raw codec. */
export function rawCodec(): Codec {
  return {
    name: 'raw',
    url: (base) => base,
    protocols: (given) => given,
    init: () => null,
    onUpgrade: () => ({ frames: [], isReady: true }),
    decode: (_, data, isBinary) => (isBinary ? NO_EVENTS : [{ kind: 'message', text: data.toString('utf8') }]),
    encode: (_, text) => [text],
    badPacketClass: 'raw.bad_packet',
    keepalive: null,
  };
}
