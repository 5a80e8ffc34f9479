import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { caseName, xmlText } from '../../console/report/junit.ts';
import { runCli, startCli, waitForOutput } from '../helpers/run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'sockstorm-junit-'));

function script(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

interface Case {
  '@_name': string;
  failure?: { '@_type': string; '@_message': string };
  skipped?: { '@_message': string };
}

/** The file as a CI server reads it: validated, then parsed with its attributes. */
function readJunit(file: string) {
  const text = readFileSync(file, 'utf8');
  expect(XMLValidator.validate(text)).toBe(true);
  const parser = new XMLParser({
    ignoreAttributes: false,
    isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name),
  });
  const suites = parser.parse(text).testsuites;
  const suite = suites.testsuite[0];
  const properties = Object.fromEntries(
    (suite.properties.property as Array<Record<string, string>>).map((p) => [p['@_name'], p['@_value']]),
  );
  return { suites, suite, properties, cases: suite.testcase as Case[] };
}

describe('junit', () => {
  it('writes one test case per threshold, a failed one with its measured figure, and the run as properties', async () => {
    const file = script(
      'judged.storm',
      'vus 3\nawait open 3 timeout 20s\nprobe 10/s\nwait 1s\nexpect open >= 3\nexpect open >= 4\nexpect rtt.p99 < 10s\n',
    );
    const junit = join(dir, 'judged.xml');
    const run = await runCli(['run', file, '--junit', junit]);
    expect(run.code).toBe(99);
    const { suites, suite, properties, cases } = readJunit(junit);
    expect(suites).toMatchObject({ '@_tests': '3', '@_failures': '1', '@_skipped': '0', '@_errors': '0' });
    expect(suite['@_name']).toBe(`sockstorm run ${file}`);
    expect(properties).toMatchObject({ exitCode: '99', verdict: 'failed', script: file });
    expect(properties['script.sha256']).toMatch(/^[0-9a-f]{64}$/);
    expect(cases.map((c) => c['@_name'])).toEqual(['expect open >= 3', 'expect open >= 4', 'expect rtt.p99 < 10s']);
    expect(cases[0]!.failure).toBeUndefined();
    expect(cases[1]!.failure).toMatchObject({ '@_type': 'threshold', '@_message': 'actual 3' });
    expect(cases[2]!.failure).toBeUndefined();
  });

  it('skips the thresholds of a stopped run as not judged', async () => {
    const file = script('stopped.storm', 'vus 2\nawait open 2 timeout 20s\nwait 60s\nexpect open >= 2\n');
    const junit = join(dir, 'stopped.xml');
    const run = startCli(['run', file, '--junit', junit]);
    await waitForOutput(run.stderr, /open 2\/2/, 20_000);
    run.child.kill('SIGINT');
    expect((await run.exit).code).toBe(105);
    const { suites, properties, cases } = readJunit(junit);
    expect(suites).toMatchObject({ '@_tests': '1', '@_failures': '0', '@_skipped': '1' });
    expect(properties).toMatchObject({ exitCode: '105', verdict: 'stopped' });
    expect(cases[0]).toMatchObject({ '@_name': 'expect open >= 2', skipped: { '@_message': 'not judged: stopped' } });
  });

  it('refuses an unwritable --junit path before the run (104), and says 107 when it is gone at the end', async () => {
    const file = script('short.storm', 'vus 2\nawait open 2 timeout 20s\nwait 3s\nexpect open >= 2\n');
    const early = await runCli(['run', file, '--junit', '/nonexistent-dir/junit.xml']);
    expect(early.code).toBe(104);
    expect(early.stderr).toContain('cannot write --junit /nonexistent-dir/junit.xml');
    const outDir = join(dir, 'vanishing');
    mkdirSync(outDir);
    const run = startCli(['run', file, '--junit', join(outDir, 'junit.xml')]);
    await waitForOutput(run.stderr, /open 2\/2/, 20_000);
    rmSync(outDir, { recursive: true });
    expect((await run.exit).code).toBe(107);
    const fallback = /the data is in (\S+) \[output\]/.exec(run.stderr())?.[1];
    expect(fallback, run.stderr()).toBeDefined();
    const kept = readJunit(fallback!);
    expect(kept.cases.map((c) => c['@_name'])).toEqual(['expect open >= 2']);
    // the file says the code the shell got
    expect(kept.properties).toMatchObject({ exitCode: '107', verdict: 'passed' });
    rmSync(fallback!);
  });

  it('writes a suite per compare run, named for its variant, with its own exit code and verdict', async () => {
    const file = script('compare.storm', 'vus 2\nawait open 2 timeout 20s\nwait 500ms\nexpect open >= 2\n');
    const junit = join(dir, 'compare.xml');
    const run = await runCli([
      'compare',
      file,
      '--variant',
      'ws:engine=ws',
      '--variant',
      'uws:engine=uws',
      '--junit',
      junit,
    ]);
    expect(run.code, run.stderr).toBe(0);
    const text = readFileSync(junit, 'utf8');
    expect(XMLValidator.validate(text)).toBe(true);
    const suites = new XMLParser({
      ignoreAttributes: false,
      isArray: (name) => name === 'testsuite' || name === 'property',
    }).parse(text).testsuites;
    expect(suites).toMatchObject({ '@_tests': '2', '@_failures': '0' });
    expect(suites.testsuite.map((s: Record<string, string>) => s['@_name'])).toEqual([
      'sockstorm compare ws (engine=ws)',
      'sockstorm compare uws (engine=uws)',
    ]);
    const properties = (suites.testsuite[1].properties.property as Array<Record<string, string>>).map((p) => [
      p['@_name'],
      p['@_value'],
    ]);
    expect(properties.slice(0, 4)).toEqual([
      ['exitCode', '0'],
      ['verdict', 'passed'],
      ['script', file],
      ['variant', 'uws'],
    ]);
    expect(suites.testsuite[0].testcase).toMatchObject({ '@_name': 'expect open >= 2' });
  });

  it('escapes markup and drops what XML cannot hold', () => {
    expect(xmlText(`a<b>&"c'\u0001`)).toBe('a&lt;b&gt;&amp;&quot;c&apos;');
    const base = { op: '==' as const, value: 0, actual: null, passed: false, saturatedShare: null };
    expect(caseName({ ...base, metric: 'command', source: 'line 2 "kill 5%": refused', status: 'failed' })).toBe(
      'command failed: line 2 "kill 5%": refused',
    );
    expect(caseName({ ...base, metric: 'open', source: 'open >= 2', status: 'passed' })).toBe('expect open >= 2');
  });
});
