// Amazon ECR's published API description, as a contract for what goes over the wire (JSON protocol).
// Shapes, operations and required members come from AWS's model in aws-sdk v2
// (apis/ecr-2015-09-21.min.json). That minified model leaves out each operation's errors and the
// enums, so those come from the same model as @aws-sdk/client-ecr publishes it: the errors each
// command declares it throws (its @throws, client or server fault) and the enum constants.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import * as ecr from '@aws-sdk/client-ecr';

export interface AwsShape {
  shape?: string;
  type?: string;
  members?: Record<string, AwsShape>;
  member?: AwsShape;
  key?: AwsShape;
  value?: AwsShape;
  required?: string[];
  enum?: string[];
  timestampFormat?: string;
}

export interface AwsOperation {
  input?: AwsShape;
  output?: AwsShape;
}

export interface AwsModel {
  metadata: { targetPrefix: string; protocol: string; jsonVersion: string };
  operations: Record<string, AwsOperation>;
  shapes: Record<string, AwsShape>;
}

const require = createRequire(import.meta.url);

export const ECR_MODEL = require('aws-sdk/apis/ecr-2015-09-21.min.json') as AwsModel;

const CLIENT_TYPES = `${require.resolve('@aws-sdk/client-ecr').replace(/dist-cjs\/index\.js$/, '')}dist-types/`;

export interface ModelledError {
  code: string;
  fault: 'client' | 'server';
}

/** The errors an operation is described to answer, with their fault (a client's 4xx, a server's 5xx). */
const errors = new Map<string, ModelledError[]>();

export function operationErrors(operation: string): ModelledError[] {
  if (!errors.has(operation)) errors.set(operation, readErrors(operation));
  return errors.get(operation)!;
}

function readErrors(operation: string): ModelledError[] {
  const text = fs.readFileSync(`${CLIENT_TYPES}commands/${operation}Command.d.ts`, 'utf8');
  return [...text.matchAll(/@throws \{@link (\w+)\} \((client|server) fault\)/g)].map((m) => ({
    code: m[1],
    fault: m[2] as 'client' | 'server',
  }));
}

/** The client's enum constants by name (e.g. ImageFailureCode), for the names the typed models use. */
const ENUMS = new Map<string, string[]>(
  Object.entries(ecr)
    .filter(
      ([, v]) =>
        typeof v === 'object' &&
        v !== null &&
        !Array.isArray(v) &&
        Object.values(v).length > 0 &&
        Object.values(v).every((x) => typeof x === 'string'),
    )
    .map(([k, v]) => [k, Object.values(v as Record<string, string>)]),
);

/** The typed models' structures: interface name -> member -> type name. */
const INTERFACES: Map<string, string>[] = (() => {
  const text = fs.readFileSync(`${CLIENT_TYPES}models/models_0.d.ts`, 'utf8');
  const out: Map<string, string>[] = [];
  let current: Map<string, string> | undefined;
  for (const line of text.split('\n')) {
    if (/^export interface \w+ \{$/.test(line)) current = new Map();
    else if (current && line === '}') {
      out.push(current);
      current = undefined;
    } else if (current) {
      const m = /^ {4}(\w+)\??: (.+?)(?: \| undefined)?;$/.exec(line);
      if (m) current.set(m[1], m[2]);
    }
  }
  return out;
})();

/**
 * The enum values a structure's string member must take: the v2 model's shapes are anonymous, so the
 * structure is matched to the typed models' structures with the same members (or, failing that, with
 * all of its members); a member is an enum when every such structure gives it the same enum type.
 */
const BY_MEMBERS = new Map<string, Map<string, string>[]>();
for (const i of INTERFACES) {
  const key = [...i.keys()].sort().join(',');
  BY_MEMBERS.set(key, [...(BY_MEMBERS.get(key) ?? []), i]);
}

function enumOf(members: string[], member: string): string[] | undefined {
  // The client's model may be newer, with members added to a structure: then its structures that
  // have every member of this one.
  const exact = BY_MEMBERS.get([...members].sort().join(','));
  const same = exact ?? INTERFACES.filter((i) => members.every((m) => i.has(m)));
  const types = new Set(same.map((i) => i.get(member)));
  if (types.size !== 1) return undefined;
  const [type] = types;
  return type ? ENUMS.get(type) : undefined;
}

function resolve(model: AwsModel, shape: AwsShape): AwsShape {
  if (!shape.shape) return shape;
  const { shape: name, ...rest } = shape;
  const target = model.shapes[name];
  if (!target) throw new Error(`the model has no shape ${name}`);
  return resolve(model, { ...target, ...rest });
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Where value differs from shape as the JSON protocol carries it: unknown members, wrong types,
 * values outside an enum, required members missing. Empty when it conforms.
 */
export function checkShape(model: AwsModel, shape: AwsShape, value: unknown, path = '$'): string[] {
  return check(model, shape, value, path, undefined);
}

function check(
  model: AwsModel,
  ref: AwsShape,
  value: unknown,
  path: string,
  enumValues?: string[],
): string[] {
  const s = resolve(model, ref);
  const type = s.type ?? 'string';
  const wrong = (what: string) => [`${path}: ${what}, got ${JSON.stringify(value)}`];
  switch (type) {
    case 'structure': {
      if (!isObject(value)) return wrong('a structure (object)');
      const members = s.members ?? {};
      const names = Object.keys(members);
      const problems: string[] = [];
      for (const [k, v] of Object.entries(value)) {
        if (!(k in members)) problems.push(`${path}.${k}: no such member (members: ${names.join(', ')})`);
        else if (v !== undefined && v !== null)
          problems.push(...check(model, members[k], v, `${path}.${k}`, enumOf(names, k)));
      }
      for (const r of s.required ?? [])
        if (value[r] === undefined || value[r] === null)
          problems.push(`${path}.${r}: required member missing`);
      return problems;
    }
    case 'list':
      if (!Array.isArray(value)) return wrong('a list (array)');
      return value.flatMap((v, i) => check(model, s.member ?? {}, v, `${path}[${i}]`));
    case 'map':
      if (!isObject(value)) return wrong('a map (object)');
      return Object.entries(value).flatMap(([k, v]) => [
        ...check(model, s.key ?? {}, k, `${path} key ${k}`),
        ...check(model, s.value ?? {}, v, `${path}.${k}`),
      ]);
    case 'string': {
      if (typeof value !== 'string') return wrong('a string');
      const allowed = s.enum ?? enumValues;
      return allowed && !allowed.includes(value) ? wrong(`one of ${allowed.join(', ')}`) : [];
    }
    case 'integer':
    case 'long':
      return Number.isInteger(value) ? [] : wrong(`an ${type}`);
    case 'float':
    case 'double':
      return typeof value === 'number' ? [] : wrong(`a ${type}`);
    case 'boolean':
      return typeof value === 'boolean' ? [] : wrong('a boolean');
    case 'timestamp':
      // The JSON protocol's timestamps are epoch seconds unless the model says otherwise.
      if (s.timestampFormat === 'iso8601')
        return typeof value === 'string' ? [] : wrong('an ISO 8601 string');
      return typeof value === 'number' ? [] : wrong('epoch seconds (a number)');
    case 'blob':
      return typeof value === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(value) ? [] : wrong('base64');
    default:
      return [`${path}: the validator knows no type ${type}`];
  }
}
