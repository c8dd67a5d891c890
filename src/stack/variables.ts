import { parseDocument } from 'yaml';

/**
 * docker's interpolation pattern (cli/compose/template): $$, $NAME or ${NAME}, each optionally with
 * :-default, -default, :?error or ?error. Case-insensitive with Unicode folding, as Go's (?i) is, so
 * `ſ` and `K` (Kelvin) count as letters there too.
 */
const PATTERN = /\$(?:(\$)|([_a-z][_a-z0-9]*(?::?[-?][^}]*)?)|\{([_a-z][_a-z0-9]*(?::?[-?][^}]*)?)\})/giu;

export interface VariableUse {
  name: string;
  /** Written with a default (-x, :-x): docker never leaves it blank. */
  defaulted: boolean;
}

/** The variables a text refers to, as docker would look them up (by the exact name, case included). */
export function variableUses(text: string): VariableUse[] {
  const uses: VariableUse[] = [];
  for (const m of text.matchAll(PATTERN)) {
    const expression = m[2] ?? m[3];
    if (!expression) continue;
    const name = /^[^:?-]+/u.exec(expression)![0];
    uses.push({ name, defaulted: /^[^:?-]+:?-/u.test(expression) });
  }
  return uses;
}

/**
 * Every variable a stack file's values refer to. This reads the file with our own YAML reader, so it
 * serves messages only (which variables to name, and their fix): what the stack holds is decided on
 * docker's rendering, whatever this finds or misses.
 */
export function stackFileVariables(text: string): VariableUse[] {
  let strings: string[];
  try {
    // failsafe: every scalar is the text it is written as.
    strings = valuesOf(parseDocument(text, { schema: 'failsafe', logLevel: 'silent' }).toJS());
  } catch {
    return [];
  }
  return strings.flatMap(variableUses);
}

function valuesOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(valuesOf);
  if (value instanceof Map) return [...value.values()].flatMap(valuesOf);
  if (value && typeof value === 'object') return Object.values(value).flatMap(valuesOf);
  return [];
}

/**
 * The variables the stack files use that the deploy will not set: one line per file and variable,
 * naming the fix (and the step's environment when it has the variable). In a preview, a variable the
 * run does not give is named even with a default: a pull request's stack file uses the run's
 * variables only.
 */
export function unsetVariableProblems(
  files: { name: string; text: string }[],
  {
    runVariables,
    stepEnv,
    preview,
  }: {
    /** What docker sees, the run's own: the action's, stack-env's and env-file's. */
    runVariables: Set<string>;
    stepEnv: NodeJS.ProcessEnv;
    preview: boolean;
  },
): string[] {
  const problems: string[] = [];
  for (const file of files) {
    const named = new Set<string>();
    for (const { name, defaulted } of stackFileVariables(file.text)) {
      const missing = !runVariables.has(name) && (preview || !defaulted);
      if (!missing || named.has(name)) continue;
      named.add(name);
      const fix =
        stepEnv[name] !== undefined && !preview
          ? `the step's environment has ${name}: add a line ${name} to stack-env to pass it`
          : `set it in stack-env (${name}=VALUE) or env-file${preview ? '' : `, or give it a default (\${${name}:-VALUE})`}`;
      const what = preview
        ? "which the run does not give it (a preview uses only the run's own variables)"
        : 'which the deploy does not set, so docker would deploy it blank';
      problems.push(`stack-file "${file.name}" uses \${${name}}, ${what}: ${fix}`);
    }
  }
  return problems;
}
