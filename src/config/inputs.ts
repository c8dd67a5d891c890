/**
 * Reading inputs: the parsing of each kind of value, action.yml's defaults for an empty one, and the
 * problems found.
 */
import { INPUT_DEFAULTS } from './input-defaults.js';

export type InputReader = (name: string) => string;

/** Thrown for bad inputs: one line per problem, each naming the input and the fix. */
export class InputError extends Error {
  constructor(
    public readonly problems: string[],
    /** What the problems are, when several: "N inputs need fixing". */
    what = 'inputs need fixing',
  ) {
    super(
      problems.length === 1
        ? problems[0]
        : `${problems.length} ${what}:\n${problems.map((p) => `- ${p}`).join('\n')}`,
    );
    this.name = 'InputError';
  }
}

export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A line of build-secrets or stack-secrets: NAME=ENV_VARIABLE, spaces around = allowed, where NAME must
 * match name and the value comes from the step's environment variable. Undefined for any other line.
 */
export function parseSecretLine(line: string, name: RegExp): { name: string; variable: string } | undefined {
  const m = /^([^=\s]+)\s*=\s*(\S+)$/.exec(line);
  return m && name.test(m[1]) && ENV_NAME.test(m[2]) ? { name: m[1], variable: m[2] } : undefined;
}

/**
 * A NAME=VALUE line of an input (labels, stack-env) split at its first =, both sides trimmed; no value
 * when the line has no =. Each input checks the name by its own rule: a label's may hold dots and
 * slashes, stack-env's is a variable name and may stand alone. Two are read otherwise on purpose:
 * env-file is a dotenv file, with export, quotes and comments (see readEnvFile), and a build-args line
 * goes to docker as written, so it may have no space before its = (see readImage).
 */
export function splitAssignment(line: string): { name: string; value?: string } {
  const eq = line.indexOf('=');
  return eq < 0
    ? { name: line.trim() }
    : { name: line.slice(0, eq).trim(), value: line.slice(eq + 1).trim() };
}

/** The highest TCP port. */
export const MAX_PORT = 65535;

/** A TCP port written in decimal digits, 1 to MAX_PORT; undefined for anything else. */
export function parsePort(text: string): number | undefined {
  const port = Number(text);
  return /^\d+$/.test(text) && port >= 1 && port <= MAX_PORT ? port : undefined;
}

/** The problem of a secret line whose variable is empty: the step must pass the secret in its env. */
export const emptySecretProblem = (input: string, name: string, variable: string): string =>
  `${input}: ${name} takes its value from ${variable}, which is empty: add "env: ${variable}: \${{ secrets.${variable} }}" to the step`;

/** The longest any wait may be: a job on a GitHub-hosted runner runs 6 hours at most. */
export const MAX_SECONDS = 6 * 3600;

/** Splits a command line into words; single and double quotes group, backslash escapes. */
export function splitArgs(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) word += text[++i];
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new Error(`has an unclosed ${quote}`);
  if (inWord) words.push(word);
  return words;
}

/**
 * The inputs of a run, each read as its kind of value (falling back to action.yml's default when
 * empty); every problem is collected, so that all are reported at once.
 */
export class Inputs {
  readonly problems: string[] = [];

  constructor(private readonly input: InputReader) {}

  problem(text: string): void {
    this.problems.push(text);
  }

  /** The input as given, untrimmed (keys, known_hosts, multi-line lists). */
  raw(name: string): string {
    return this.input(name);
  }

  /** The input, or action.yml's default when it is empty. */
  get(name: string): string {
    return this.input(name).trim() || (INPUT_DEFAULTS[name] ?? '');
  }

  required(name: string, hint: string): string {
    const v = this.get(name);
    if (!v) this.problem(`${name} is required: ${hint}`);
    return v;
  }

  bool(name: string): boolean {
    const v = this.get(name).toLowerCase();
    if (['true', 'yes', '1'].includes(v)) return true;
    if (['false', 'no', '0'].includes(v)) return false;
    this.problem(`${name} must be true or false, not "${this.get(name)}"`);
    return false;
  }

  seconds(name: string, allowZero = false): number {
    const v = this.get(name);
    const m = /^(\d+)(s|m)?$/.exec(v);
    if (!m || (Number(m[1]) === 0 && !allowZero)) {
      const what = allowZero ? 'a number of seconds' : 'a positive number of seconds';
      this.problem(`${name} must be ${what} (e.g. 300, or 5m), not "${v}"`);
      return 0;
    }
    const seconds = Number(m[1]) * (m[2] === 'm' ? 60 : 1);
    if (seconds > MAX_SECONDS) {
      this.problem(
        `${name} must be at most ${MAX_SECONDS} seconds (6 hours, the longest a hosted job runs), not "${v}"`,
      );
      return 0;
    }
    return seconds;
  }

  words(name: string): string[] {
    try {
      return splitArgs(this.get(name));
    } catch (e) {
      this.problem(`${name} ${(e as Error).message}; quote each word at most once`);
      return [];
    }
  }

  /** Comma or newline separated. */
  list(name: string): string[] {
    return this.get(name)
      .split(/[\n,]/)
      .map((s) => s.trim())
      .filter(Boolean);
  }

  /** One per line; blank lines and # comments left out. */
  lines(name: string): string[] {
    return this.input(name)
      .split(/\r?\n/)
      .map((s) => s.trim())
      .filter((s) => s && !s.startsWith('#'));
  }
}
