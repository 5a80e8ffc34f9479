/**
 * `{{env.NAME}}` in templates: a value from the environment (a token, a password) that a
 * script or a flag names instead of holding. Checked before any socket opens: an unset NAME is
 * an error at its line and column. A value is never written into a step, a command or an
 * option: the engine gets the values apart (the `template-values` command) and fills them in
 * as it renders a frame or a header for a user, so what is shown (the steps' text, the
 * engine's answers, the event log, the summary) holds `{{env.NAME}}` and never what it stood
 * for. For the same reason a name is refused where its text is shown as given: a target URL, a
 * mark, a file name. Pure: the environment is passed in.
 */
import { ScriptError, type ScriptStep } from './parse.ts';

/** Commands whose template the engine renders for each user, and so may name `{{env.NAME}}`. */
const TEMPLATED = ['messages', 'probe', 'connect-payload', 'on-open'];

/** Where `{{env.NAME}}` may stand, for the error that says it may not stand elsewhere. */
const WHERE = 'messages, probe, connect, on open send, --header and --subprotocol';

/** A `{{env.NAME}}` and where it starts in its text (0-based). */
export interface EnvRef {
  name: string;
  index: number;
}

/** The `{{env.NAME}}` of a text, in order (NAME: letters, digits and _, not starting with a digit). */
export function envRefsIn(text: string): EnvRef[] {
  return [...text.matchAll(/\{\{env\.([A-Za-z_]\w*)\}\}/g)].map((m) => ({ name: m[1]!, index: m.index }));
}

/** What {@link resolveEnvRefs} found: the values to give the engine, or what is wrong and where. */
export interface EnvResolution {
  /** `env.NAME` → its value, for the names used (never the whole environment). */
  values: Record<string, string>;
  /** A script's errors, each at its line and column. */
  errors: ScriptError[];
  /** A flag's errors, each naming the flag. */
  flagErrors: string[];
}

/**
 * Checks every `{{env.NAME}}` of a script's steps and of the flags' texts (`[flag, text,
 * isTemplated]`) against `env`, and collects the values of the names used.
 */
export function resolveEnvRefs(
  steps: readonly ScriptStep[],
  flags: ReadonlyArray<[flag: string, text: string, isTemplated: boolean]>,
  env: Readonly<Record<string, string | undefined>>,
): EnvResolution {
  const resolution: EnvResolution = { values: {}, errors: [], flagErrors: [] };
  const take = (ref: EnvRef, isTemplated: boolean): string | null => {
    if (!isTemplated) return `{{env.${ref.name}}} is read only in templates (${WHERE}): here it would be shown`;
    const value = env[ref.name];
    if (value === undefined) return `{{env.${ref.name}}} names ${ref.name}, which is not set: export it before the run`;
    resolution.values[`env.${ref.name}`] = value;
    return null;
  };
  for (const step of steps) {
    const isTemplated = step.kind === 'engine' && TEMPLATED.includes(step.command.type);
    for (const ref of envRefsIn(step.text)) {
      const problem = take(ref, isTemplated);
      if (problem) resolution.errors.push(new ScriptError(step.line, ref.index + 1, problem));
    }
  }
  for (const [flag, text, isTemplated] of flags) {
    for (const ref of envRefsIn(text)) {
      const problem = take(ref, isTemplated);
      if (problem) resolution.flagErrors.push(`${flag}: ${problem}`);
    }
  }
  return resolution;
}
