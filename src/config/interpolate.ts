/**
 * The docker CLI's stack file interpolation, so that a check sees the file as it will be deployed:
 * $$ is a dollar; $NAME and ${NAME} a variable's value (empty when unset); ${NAME:-x} x when unset or
 * empty; ${NAME-x} x when unset; ${NAME:?msg} and ${NAME?msg} the value. Defaults are not themselves
 * interpolated, and names match case-insensitively in the pattern, as in the CLI.
 */
const SUBSTITUTION = '[_a-z][_a-z0-9]*(?::?[-?][^}]*)?';
const PATTERN = new RegExp(`\\$(?:(\\$)|(${SUBSTITUTION})|\\{(${SUBSTITUTION})\\}|())`, 'gi');

function substitute(expression: string, variables: Record<string, string>): string {
  const has = (name: string) => Object.prototype.hasOwnProperty.call(variables, name);
  const split = (sep: string) => {
    const at = expression.indexOf(sep);
    return [expression.slice(0, at), expression.slice(at + sep.length)];
  };
  if (expression.includes(':-')) {
    const [name, fallback] = split(':-');
    return has(name) && variables[name] !== '' ? variables[name] : fallback;
  }
  if (expression.includes('-')) {
    const [name, fallback] = split('-');
    return has(name) ? variables[name] : fallback;
  }
  if (expression.includes('?')) return variables[split(expression.includes(':?') ? ':?' : '?')[0]] ?? '';
  return variables[expression] ?? '';
}

export function interpolate(text: string, variables: Record<string, string>): string {
  return text.replace(PATTERN, (_match, escaped?: string, named?: string, braced?: string) =>
    escaped ? '$' : substitute(named ?? braced ?? '', variables),
  );
}

/** Every string in a parsed YAML document interpolated; keys are left as they are. */
export function interpolateAll(value: unknown, variables: Record<string, string>): unknown {
  if (typeof value === 'string') return interpolate(value, variables);
  if (Array.isArray(value)) return value.map((v) => interpolateAll(v, variables));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, interpolateAll(v, variables)]),
    );
  }
  return value;
}

/** The variables a text refers to (escaped dollars left out). */
export function referencedVariables(text: string): string[] {
  const names: string[] = [];
  for (const m of text.matchAll(PATTERN)) {
    const expression = m[2] ?? m[3];
    if (expression) names.push(/^[_a-z][_a-z0-9]*/i.exec(expression)![0]);
  }
  return names;
}

/** Every string of a parsed YAML document, keys left out. */
export function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsOf);
  if (value && typeof value === 'object') return Object.values(value as object).flatMap(stringsOf);
  return [];
}
