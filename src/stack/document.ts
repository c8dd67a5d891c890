import { parse } from 'yaml';
import { namesDigest } from '../naming.js';

/**
 * A stack as docker's own compose loader reads it: the output of `docker stack config`, with YAML tags
 * decoded, variables filled in, files merged, short syntax written long and relative paths made
 * absolute. Every decision the action makes about a stack reads this, never the user's files.
 */
export type StackDoc = Record<string, unknown> & { services: Record<string, Service> };

/** A service of the rendering; only the keys the action reads are named. */
export type Service = Record<string, unknown> & {
  image?: string;
  deploy?: Record<string, unknown> & {
    mode?: string;
    labels?: Record<string, string>;
    restart_policy?: { condition?: string; max_attempts?: number };
  };
};

/** The top-level sections whose entries services refer to by name. */
export const OBJECT_SECTIONS = ['networks', 'volumes', 'secrets', 'configs'] as const;
export type ObjectSection = (typeof OBJECT_SECTIONS)[number];

export const record = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
export const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/**
 * Reads docker's rendering. Docker writes it with Go's YAML encoder, which quotes every string that
 * could be read as another type, and the document is written back for docker to read again before the
 * deploy (see writeDeployFile), so that what is checked is what is deployed. Anything but plain text,
 * numbers, booleans, lists and maps (a !!binary value, a key read twice) is refused, and the error
 * quotes nothing of the document: it holds what docker read from env_files.
 */
export function parseRendering(text: string): StackDoc {
  let parsed: unknown;
  try {
    parsed = parse(text, { version: '1.2', schema: 'core', prettyErrors: false });
  } catch (e) {
    const code = (e as { code?: string }).code ?? 'YAML error';
    // Not given as the cause: its message quotes the document.
    // eslint-disable-next-line preserve-caught-error
    throw new Error(`docker's rendering of the stack could not be read (${code})`);
  }
  const odd = firstNonJson(parsed);
  if (odd !== undefined)
    throw new Error(`docker's rendering of the stack holds a value that is not text at ${odd || '(top)'}`);
  const doc = record(parsed);
  return { ...doc, services: record(doc.services) as Record<string, Service> };
}

/** Where a value is not JSON's (a byte array, a date, ...), as a path; undefined when all are. */
function firstNonJson(value: unknown, at = ''): string | undefined {
  if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) return undefined;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const found = firstNonJson(v, `${at}[${i}]`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return at;
  for (const [k, v] of Object.entries(value as object)) {
    const found = firstNonJson(v, at ? `${at}.${k}` : k);
    if (found !== undefined) return found;
  }
  return undefined;
}

export const serviceNames = (doc: StackDoc): string[] => Object.keys(doc.services);

/** The entries of a top-level section (networks, volumes, secrets, configs) by their key. */
export const section = (doc: StackDoc, name: ObjectSection): Record<string, Record<string, unknown>> =>
  record(doc[name]) as Record<string, Record<string, unknown>>;

/** The networks a service is on: its own list, or the stack's default network. */
export function networksOf(service: Service): string[] {
  const networks = Object.keys(record(service.networks));
  return networks.length > 0 ? networks : ['default'];
}

/** The top-level entries a service refers to, by section (named volumes only: not binds or tmpfs). */
export function referencesOf(service: Service): Record<ObjectSection, string[]> {
  const sources = (key: string) =>
    list(service[key])
      .map((entry) => record(entry).source)
      .filter((s): s is string => typeof s === 'string');
  return {
    networks: networksOf(service),
    volumes: list(service.volumes)
      .map(record)
      .filter((m) => (m.type ?? 'volume') === 'volume' && typeof m.source === 'string' && m.source !== '')
      .map((m) => m.source as string),
    secrets: sources('secrets'),
    configs: sources('configs'),
  };
}

/** Every image of the stack names a digest: docker stack deploy has nothing to ask a registry. */
export const everyImagePinned = (doc: StackDoc): boolean =>
  Object.values(doc.services).every((s) => namesDigest(s.image ?? ''));

/** A build: section's context as written; docker's default is `.`, the stack file's folder. */
export const buildContext = (build: Record<string, unknown>): string =>
  typeof build.context === 'string' ? build.context : '.';

/** Whether a build context is a URL or a git remote (https://..., git@...) rather than a folder. */
export const isRemoteContext = (context: string): boolean => /^[a-z][a-z0-9+.-]*:|^git@/i.test(context);
