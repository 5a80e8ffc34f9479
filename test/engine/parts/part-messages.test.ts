// The shapes of the part protocol (console/engine/part-messages.ts), pure: what a part sends is
// read only when it has the shape it should, with its bounds; a figure a part could not take
// (NaN, which JSON sends as null) is 0, not a lost part.
import { describe, expect, it } from 'vitest';
import {
  readFromCoordinator,
  readFromPart,
  readHello,
  readToPart,
} from '../../../console/engine/parts/part-messages.ts';
import { emptySample } from '../../../console/engine/parts/part-samples.ts';
import { PART_PROTOCOL_VERSION } from '../../../console/engine/parts/part-protocol.ts';

const live = { open: 3, target: 4, isRecovered: false, killed: 0 };

describe('part messages', () => {
  it("reads a part's sample as it travels (JSON), a figure it could not take as 0", () => {
    const sample = emptySample();
    const wire = JSON.parse(
      JSON.stringify({
        type: 'sample',
        id: 1,
        sample: { ...sample, health: { ...sample.health, utilization: Number.NaN } },
        live,
      }),
    );
    expect(wire.sample.health.utilization).toBeNull();
    const read = readFromPart(wire);
    expect(read).toMatchObject({ ok: true, message: { type: 'sample', id: 1, live } });
    expect(read.ok && read.message.type === 'sample' && read.message.sample.health.utilization).toBe(0);
  });

  it("carries a part's peak of open users, and refuses a sample without it (a part of the protocol before 3)", () => {
    const sample = emptySample();
    const withPeak = { ...sample, fleet: { ...sample.fleet, open: 3, peakOpen: 100 } };
    const read = readFromPart(JSON.parse(JSON.stringify({ type: 'sample', id: 2, sample: withPeak, live })));
    expect(read.ok && read.message.type === 'sample' && read.message.sample.fleet.peakOpen).toBe(100);
    const { peakOpen: _, ...older } = withPeak.fleet;
    expect(readFromPart({ type: 'sample', id: 2, sample: { ...sample, fleet: older }, live })).toEqual({
      ok: false,
      reason: expect.stringMatching(/^sample\.fleet\.peakOpen: /),
    });
    expect(PART_PROTOCOL_VERSION).toBe(3);
  });

  it('refuses wrong types, missing fields, unknown types and past-bound lists, saying where', () => {
    expect(readFromPart({ type: 'live', ...live, open: 'many' })).toEqual({
      ok: false,
      reason: expect.stringMatching(/^open: .*expected number/),
    });
    expect(readFromPart({ type: 'sample', id: 1, sample: {}, live })).toEqual({
      ok: false,
      reason: expect.stringMatching(/^sample\.fleet: /),
    });
    expect(readFromPart({ type: 'hello?' })).toEqual({ ok: false, reason: expect.stringMatching(/^type: /) });
    expect(readFromPart(null).ok).toBe(false);
    const events = Array.from({ length: 1001 }, () => ({ atMs: 1, level: 'info', text: 'x' }));
    expect(readFromPart({ type: 'stopped', sample: { ...emptySample(), events } })).toEqual({
      ok: false,
      reason: expect.stringMatching(/^sample\.events: /),
    });
    expect(readFromPart({ type: 'failed', message: 'x'.repeat(5000) }).ok).toBe(false);
  });

  it("reads the shell's commands, and refuses one with a bad field", () => {
    expect(readToPart({ type: 'apply', id: 7, command: { type: 'set-target', count: 10 } }).ok).toBe(true);
    expect(readToPart({ type: 'apply', id: 7, command: { type: 'set-target', count: 'all' } })).toEqual({
      ok: false,
      reason: expect.stringMatching(/^command\.count: /),
    });
    expect(readToPart({ type: 'rows', rows: [{ n: '1' }] }).ok).toBe(true);
    const values = { type: 'template-values', values: { 'env.TOKEN': 't' } };
    expect(readToPart({ type: 'apply', id: 8, command: values }).ok).toBe(true);
    expect(readToPart({ type: 'apply', id: 8, command: { ...values, values: { 'env.TOKEN': 7 } } }).ok).toBe(false);
    expect(readFromCoordinator({ type: 'welcome', name: 'a' }).ok).toBe(true);
    expect(readFromCoordinator(null).ok).toBe(false);
    expect(readHello({ type: 'hello', protocol: 2, token: 't', name: 'a', capacity: null }).ok).toBe(true);
    expect(readHello({ type: 'hello', protocol: 2, token: 7, name: 'a', capacity: null })).toEqual({
      ok: false,
      reason: expect.stringMatching(/^token: /),
    });
  });
});
