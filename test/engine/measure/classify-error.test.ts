import { describe, expect, it } from 'vitest';
import { adviceFor, classifyClose, classifyError } from '../../../console/engine/measure/classify-error.ts';

describe('classifyError', () => {
  it.each([
    [{ code: 'ECONNREFUSED' }, 'tcp.refused'],
    [{ code: 'ECONNRESET' }, 'tcp.reset'],
    [{ code: 'ENOTFOUND' }, 'dns'],
    [{ code: 'EMFILE' }, 'local.emfile'],
    [{ code: 'EADDRNOTAVAIL' }, 'local.ports'],
    [{ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }, 'tls.depth_zero_self_signed_cert'],
    [{ code: 'WS_ERR_INVALID_UTF8' }, 'protocol.WS_ERR_INVALID_UTF8'],
    [{ message: 'Unexpected server response: 503' }, 'handshake.http_503'],
    [{ message: 'Opening handshake has timed out' }, 'handshake.timeout'],
  ])('classifies %o as %s', (error, expected) => {
    expect(classifyError(error)).toBe(expected);
  });
  it('classifies closes by code and points EMFILE to sockstorm tune', () => {
    expect(classifyClose(1006)).toBe('close.1006');
    expect(adviceFor('local.emfile')).toContain('sockstorm tune check');
  });
});
