import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseLine, parseScript, ScriptError } from '../../console/script/parse.ts';
import { evaluateThresholds } from '../../console/verdict/thresholds.ts';

function errorOf(source: string): ScriptError {
  try {
    parseScript(source);
  } catch (error) {
    if (error instanceof ScriptError) return error;
    throw error;
  }
  throw new Error('expected a ScriptError');
}

describe('parseLine', () => {
  it('parses every fleet command into engine commands', () => {
    expect(parseLine('vus 200')).toMatchObject({ kind: 'engine', command: { type: 'set-target', count: 200 } });
    expect(parseLine('add 10')).toMatchObject({ command: { type: 'add', count: 10 } });
    expect(parseLine('remove 5')).toMatchObject({ command: { type: 'remove', count: 5 } });
    expect(parseLine('rate 500/s')).toMatchObject({ command: { type: 'set-rate', perSec: 500 } });
    expect(parseLine('probe 100/s')).toMatchObject({ command: { type: 'probe', perSec: 100 } });
    expect(parseLine('probe off')).toMatchObject({ command: { type: 'probe', perSec: 0 } });
    expect(parseLine('kill 20%')).toMatchObject({
      command: { type: 'kill', percent: 20, mode: 'reset', victims: 'random' },
    });
    expect(parseLine('kill 5% close oldest')).toMatchObject({ command: { mode: 'close', victims: 'oldest' } });
    expect(parseLine('slow 10% for 5s')).toMatchObject({ command: { type: 'slow', percent: 10, forMs: 5000 } });
    expect(parseLine('server workMs 20')).toMatchObject({ command: { type: 'server', knob: 'workMs', value: 20 } });
    expect(parseLine('server fanout loop')).toMatchObject({ command: { value: 'loop' } });
    expect(parseLine('mark before the storm')).toMatchObject({ command: { type: 'mark', label: 'before the storm' } });
    expect(parseLine('messages 10/s {"t":"chat","n":{{n}}}')).toMatchObject({
      command: { type: 'messages', perSec: 10, template: '{"t":"chat","n":{{n}}}' },
    });
  });

  it('parses broadcast options in any order', () => {
    expect(parseLine('broadcast')).toMatchObject({ command: { type: 'broadcast', count: 1, sizeBytes: 16 } });
    expect(parseLine('broadcast 50 topic news size 1KiB every 100ms')).toMatchObject({
      command: { type: 'broadcast', count: 50, sizeBytes: 1024, topic: 'news', everyMs: 100 },
    });
  });

  it('parses reconnect policies, ramps, waits and awaits', () => {
    expect(parseLine('reconnect off')).toMatchObject({ command: { policy: { kind: 'off' } } });
    expect(parseLine('reconnect fixed 2s')).toMatchObject({ command: { policy: { kind: 'fixed', delayMs: 2000 } } });
    expect(parseLine('reconnect expo 100ms..10s equal')).toMatchObject({
      command: { policy: { kind: 'expo', minMs: 100, maxMs: 10000, jitter: 'equal' } },
    });
    expect(parseLine('ramp 1000 over 30s')).toMatchObject({
      kind: 'ramp',
      command: { count: 1000, overMs: 30000 },
      until: [],
    });
    expect(parseLine('ramp 10 over 1s until connect.p99 > 500ms or errors.rate > 0.01')).toMatchObject({
      until: [
        { metric: 'connect.p99', op: '>', value: 500 },
        { metric: 'errors.rate', op: '>', value: 0.01 },
      ],
    });
    expect(parseLine('wait 1.5s')).toMatchObject({ kind: 'wait', ms: 1500 });
    expect(parseLine('await open 200 timeout 10s')).toMatchObject({ kind: 'await-open', count: 200, timeoutMs: 10000 });
    expect(parseLine('await recovered')).toMatchObject({ kind: 'await-recovered', timeoutMs: 60000 });
  });

  it('parses thresholds as data, with units and with or without spaces', () => {
    expect(parseLine('expect fanout.p99 < 250ms')).toMatchObject({
      threshold: { metric: 'fanout.p99', op: '<', value: 250 },
    });
    expect(parseLine('expect recovery.full <=2s')).toMatchObject({ threshold: { op: '<=', value: 2000 } });
    expect(parseLine('expect reach >= 99%')).toMatchObject({ threshold: { metric: 'reach', value: 0.99 } });
    expect(parseLine('expect errors.tcp.refused == 0')).toMatchObject({
      threshold: { metric: 'errors.tcp.refused', op: '==', value: 0 },
    });
  });

  it('skips comments and blank lines', () => {
    expect(parseLine('   # nothing here')).toBeNull();
    expect(parseLine('vus 5 # five')).toMatchObject({ command: { count: 5 } });
  });
});

describe('parseScript errors', () => {
  it('names the line and column of an unknown command', () => {
    const error = errorOf('vus 10\n\n  explode 5');
    expect([error.line, error.column]).toEqual([3, 3]);
    expect(error.reason).toContain('unknown command "explode"');
  });
  it('names the column of a bad argument', () => {
    const error = errorOf('kill 150%');
    expect([error.line, error.column]).toEqual([1, 6]);
    expect(errorOf('wait 5').reason).toContain('a duration');
    expect(errorOf('vus 10 20').reason).toContain('unexpected "20"');
    expect(errorOf('expect banana < 5').reason).toContain('unknown metric');
    expect(errorOf('expect reach < 5ms').reason).toContain('not a duration');
    expect(errorOf('reconnect expo 5s..1s').reason).toContain('not a range');
  });
  it('refuses a target after the fleet has started', () => {
    expect(errorOf('vus 1\ntarget ws://127.0.0.1:1/').line).toBe(2);
  });
});

describe('evaluateThresholds', () => {
  it('passes and fails by comparison, and fails a metric that was never measured', () => {
    const results = evaluateThresholds(
      [
        { metric: 'rtt.p99', op: '<', value: 10, source: '' },
        { metric: 'open', op: '>=', value: 100, source: '' },
        { metric: 'recovery.full', op: '<', value: 1000, source: '' },
        { metric: 'errors.tcp.refused', op: '==', value: 0, source: '' },
      ],
      { 'rtt.p99': 5, open: 99, 'recovery.full': null },
    );
    expect(results.map((r) => r.passed)).toEqual([true, false, false, true]);
  });
});

describe('the README', () => {
  it('has worked examples of the command language that parse as written', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('Worked examples'), readme.indexOf('Shipped experiments'));
    const scripts = [...section.matchAll(/```\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(scripts.length).toBeGreaterThanOrEqual(3);
    for (const script of scripts) expect(() => parseScript(script), script).not.toThrow();
  });
});

describe('the shipped examples', () => {
  it('parse as written, the real-target ones too', () => {
    const dir = new URL('../../examples/', import.meta.url);
    const files = ['burst', 'chaos', 'demo', 'ramp']
      .map((n) => `${n}.storm`)
      .concat(['socketio', 'graphql', 'mqtt', 'subscribe'].map((n) => `targets/${n}.storm`));
    for (const file of files) expect(() => parseScript(readFileSync(new URL(file, dir), 'utf8')), file).not.toThrow();
  });
});
