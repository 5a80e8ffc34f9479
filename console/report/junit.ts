/**
 * `--junit FILE`: the run as a JUnit XML report, the form CI servers (Jenkins, GitLab, GitHub
 * actions that read test reports) show as tests. One test case per result line of the summary:
 * each `expect` by its text, and what else failed the run (a timed-out await, a refused
 * command, a fault). A failed or inconclusive one carries a failure with the figure measured; a
 * threshold a stopped run did not judge is skipped ("not judged: stopped"). The suite's
 * properties say the exit code, the verdict and the script; `compare` writes a suite per run.
 * Pure: summaries in, text out.
 */
import type { ThresholdResult } from '../verdict/thresholds.ts';
import { INCONCLUSIVE_SHARE } from '../verdict/verdict.ts';
import { percent } from './format.ts';
import type { RunSummary } from './summary.ts';
import { metricText } from './summary-text.ts';

/** Text safe in an XML attribute or element: markup escaped, characters XML 1.0 cannot hold dropped. */
export function xmlText(text: string): string {
  return text
    .replace(/[^\t\n\r\x20-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** A test case's name: an `expect` as written, anything else as the summary says it. */
export function caseName(result: ThresholdResult): string {
  switch (result.metric) {
    case 'command':
      return `command failed: ${result.source}`;
    case 'fault':
      return `fault: ${result.source}`;
    case 'await':
    case 'connects':
      return result.source;
    default:
      return `expect ${result.source}`;
  }
}

/** What a case that did not pass says: the figure measured against what was asked. */
function failureOf(result: ThresholdResult): { type: string; message: string } {
  const written = result.source.split(/\s+/).pop() ?? '';
  const actual = metricText(result.metric, result.actual, written);
  if (result.status === 'inconclusive')
    return {
      type: 'inconclusive',
      message:
        `actual ${actual}, judged on samples more than ${percent(INCONCLUSIVE_SHARE)} of which were taken ` +
        'while the generator was saturated',
    };
  if (result.metric === 'command' || result.metric === 'fault') return { type: result.metric, message: result.source };
  if (result.metric === 'await') return { type: 'await', message: `timed out with ${actual} of ${result.value} open` };
  return {
    type: 'threshold',
    message: result.actual === null ? 'not measured (a threshold cannot pass unmeasured)' : `actual ${actual}`,
  };
}

function testCase(result: ThresholdResult): string {
  const open = `    <testcase name="${xmlText(caseName(result))}" classname="sockstorm.thresholds" time="0"`;
  if (result.status === 'passed') return `${open}/>`;
  if (result.status === 'stopped') return `${open}>\n      <skipped message="not judged: stopped"/>\n    </testcase>`;
  const { type, message } = failureOf(result);
  return (
    `${open}>\n      <failure type="${type}" message="${xmlText(message)}">` +
    `${xmlText(`${caseName(result)}: ${message}`)}</failure>\n    </testcase>`
  );
}

/** One test suite: a run, by the name a CI server lists it under, with what it says of itself. */
export interface JunitSuite {
  name: string;
  summary: RunSummary;
  properties: Array<[name: string, value: string]>;
}

function counts(results: readonly ThresholdResult[], seconds: number): string {
  const failures = results.filter((r) => r.status === 'failed' || r.status === 'inconclusive').length;
  const skipped = results.filter((r) => r.status === 'stopped').length;
  return (
    `tests="${results.length}" failures="${failures}" errors="0" skipped="${skipped}" ` + `time="${seconds.toFixed(3)}"`
  );
}

/** The JUnit XML of several runs (compare's), a test suite each. */
export function renderJunitSuites(suites: readonly JunitSuite[]): string {
  const all = suites.flatMap((s) => s.summary.thresholds);
  const seconds = suites.reduce((sum, s) => sum + s.summary.durationMs / 1000, 0);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="sockstorm" ${counts(all, seconds)}>`,
    ...suites.flatMap((suite) => [
      `  <testsuite name="${xmlText(suite.name)}" ${counts(suite.summary.thresholds, suite.summary.durationMs / 1000)}>`,
      '    <properties>',
      ...suite.properties.map(([name, value]) => `      <property name="${xmlText(name)}" value="${xmlText(value)}"/>`),
      '    </properties>',
      ...suite.summary.thresholds.map(testCase),
      '  </testsuite>',
    ]),
    '</testsuites>',
    '',
  ].join('\n');
}

/** What a run says of itself: its exit code, verdict, script and the script's SHA-256. */
export function runProperties(summary: RunSummary, script: string, exitCode: number): Array<[string, string]> {
  return [
    ['exitCode', String(exitCode)],
    ['verdict', summary.verdict],
    ['script', script],
    ...(summary.script ? [['script.sha256', summary.script.sha256] as [string, string]] : []),
  ];
}

/** The JUnit XML of a run; `script` is the script's name as given (`<stdin>` for `run -`), `exitCode` the process's. */
export function renderJunit(summary: RunSummary, script: string, exitCode: number = summary.exitCode): string {
  return renderJunitSuites([
    { name: `sockstorm run ${script}`, summary, properties: runProperties(summary, script, exitCode) },
  ]);
}
