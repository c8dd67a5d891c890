// GitHub's published REST API description (@octokit/openapi, api.github.com) as a contract: find the
// operation a request names, and check a value against a schema of the description. The validator
// knows the subset of JSON Schema the description uses for these routes: $ref, type (one or several),
// nullable, properties, required, additionalProperties, items, enum, oneOf/anyOf/allOf, format
// date-time and uri (the described default, e.g. "", passes).
import { createRequire } from 'node:module';

export interface Schema {
  $ref?: string;
  type?: string | string[];
  nullable?: boolean;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  enum?: unknown[];
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
  format?: string;
  default?: unknown;
}

interface Parameter {
  $ref?: string;
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema: Schema;
}

interface Media {
  content?: Record<string, { schema: Schema }>;
  $ref?: string;
}

export interface Operation {
  operationId: string;
  parameters?: Parameter[];
  requestBody?: Media & { required?: boolean };
  responses: Record<string, Media>;
}

interface Spec {
  paths: Record<string, Record<string, Operation>>;
  components: Record<string, Record<string, unknown>>;
}

const require = createRequire(import.meta.url);

export const GITHUB_API = require('@octokit/openapi/generated/api.github.com.json') as Spec;

function deref<T extends { $ref?: string }>(spec: Spec, value: T): T {
  if (!value.$ref) return value;
  const [, , kind, name] = value.$ref.split('/');
  const target = spec.components[kind]?.[name] as T | undefined;
  if (!target) throw new Error(`the description has no ${value.$ref}`);
  return deref(spec, target);
}

export interface Found {
  template: string;
  operation: Operation;
  params: Record<string, string>;
}

/**
 * The described operation for method and a concrete path, with the path's parameters; of the templates
 * that match, the one with the fewest parameters (the most literal).
 */
export function findOperation(spec: Spec, method: string, path: string): Found | undefined {
  const found: Found[] = [];
  for (const { template, pattern, names } of templates(spec)) {
    const operation = spec.paths[template][method.toLowerCase()];
    const m = operation ? pattern.exec(path) : null;
    if (m)
      found.push({
        template,
        operation: operation!,
        params: Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1])])),
      });
  }
  return found.sort((a, b) => Object.keys(a.params).length - Object.keys(b.params).length)[0];
}

const compiled = new WeakMap<Spec, { template: string; pattern: RegExp; names: string[] }[]>();

function templates(spec: Spec): { template: string; pattern: RegExp; names: string[] }[] {
  if (!compiled.has(spec))
    compiled.set(
      spec,
      Object.keys(spec.paths).map((template) => {
        const names: string[] = [];
        const source = template
          .replace(/[.*+?^$()|[\]\\]/g, '\\$&')
          .replace(/\{(\w+)\}/g, (_, name: string) => {
            names.push(name);
            return '([^/]+)';
          });
        return { template, pattern: new RegExp(`^${source}$`), names };
      }),
    );
  return compiled.get(spec)!;
}

export function parameters(spec: Spec, operation: Operation): Parameter[] {
  return (operation.parameters ?? []).map((p) => deref(spec, p));
}

/** The JSON schema of a request body or of a response with that status, when described. */
export function bodySchema(spec: Spec, media: Media | undefined): Schema | undefined {
  return media ? deref(spec, media).content?.['application/json']?.schema : undefined;
}

export function responseSchema(spec: Spec, operation: Operation, status: number): Schema | undefined | null {
  const media = operation.responses[String(status)];
  return media ? (bodySchema(spec, media) ?? null) : undefined;
}

const typeOf = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v;

/**
 * Where value differs from schema. Stricter than JSON Schema in one way: an object with described
 * properties may carry no other property unless additionalProperties allows it, so that a renamed
 * optional field shows. oneOf is taken as anyOf (the description's oneOf branches do not overlap for
 * these values).
 */
export function checkSchema(spec: Spec, schema: Schema, value: unknown, path = '$'): string[] {
  const s = deref(spec, schema);
  const wrong = (what: string) => [`${path}: ${what}, got ${JSON.stringify(value)?.slice(0, 200)}`];
  if (
    value === null &&
    (s.nullable || s.type === 'null' || (Array.isArray(s.type) && s.type.includes('null')))
  )
    return [];
  if (s.allOf) {
    const problems = s.allOf.flatMap((b) => checkSchema(spec, b, value, path));
    if (problems.length) return problems;
  }
  for (const branches of [s.oneOf, s.anyOf]) {
    if (!branches) continue;
    const tried = branches.map((b) => checkSchema(spec, b, value, path));
    if (!tried.some((p) => p.length === 0))
      return [
        `${path}: matches none of ${branches.length} alternatives: ${tried.map((p) => p[0]).join(' | ')}`,
      ];
  }
  if (s.enum && !s.enum.includes(value))
    return wrong(`one of ${s.enum.map((e) => JSON.stringify(e)).join(', ')}`);
  const types = s.type === undefined ? [] : Array.isArray(s.type) ? s.type : [s.type];
  const actual = typeOf(value);
  if (types.length && !types.includes(actual) && !(actual === 'integer' && types.includes('number')))
    return wrong(`type ${types.join(' or ')}`);
  // A string's format holds unless it is the described default (GitHub's URLs default to "").
  if (value === s.default) return [];
  if (
    typeof value === 'string' &&
    s.format === 'date-time' &&
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value)
  )
    return wrong('a date-time');
  if (typeof value === 'string' && s.format === 'uri' && !URL.canParse(value)) return wrong('a uri');
  if (Array.isArray(value) && s.items)
    return value.flatMap((v, i) => checkSchema(spec, s.items!, v, `${path}[${i}]`));
  if (actual === 'object' && (s.properties || s.additionalProperties !== undefined)) {
    const object = value as Record<string, unknown>;
    const props = s.properties ?? {};
    const problems: string[] = [];
    for (const r of s.required ?? [])
      if (!(r in object)) problems.push(`${path}.${r}: required property missing`);
    for (const [k, v] of Object.entries(object)) {
      if (props[k]) problems.push(...checkSchema(spec, props[k], v, `${path}.${k}`));
      else if (typeof s.additionalProperties === 'object')
        problems.push(...checkSchema(spec, s.additionalProperties, v, `${path}.${k}`));
      else if (s.additionalProperties !== true && s.properties)
        problems.push(`${path}.${k}: not a described property (${Object.keys(props).join(', ')})`);
    }
    return problems;
  }
  return [];
}
