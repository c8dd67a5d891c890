import { isMap, isNode, isScalar, parse, parseDocument, visit, type Document, type Node } from 'yaml';

/** The top-level sections whose entries a service refers to by name. */
const SECTIONS = ['networks', 'volumes', 'secrets', 'configs'] as const;
type Section = (typeof SECTIONS)[number];

/** What the one-shot services refer to, by section; undefined when a reference is interpolated (keep all). */
type Used = Record<Section, Set<string> | undefined>;

/**
 * The stack files cut down to the one-shot services and what they use, for docker stack deploy to
 * deploy them alone: each file keeps its text (quoting, numbers, comments, interpolation left to the
 * docker CLI), with the other services and the networks, volumes, secrets and configs no one-shot
 * refers to taken out. Anchors used across what is taken out are written out in full.
 */
export function oneShotStackFiles(texts: string[], oneShots: string[]): string[] {
  const used = usedByOneShots(texts, oneShots);
  return texts.map((text) => {
    // failsafe: every scalar stays the text it is, so docker reads it as it would read the user's file.
    const doc = parseDocument(text, { schema: 'failsafe', uniqueKeys: false, logLevel: 'error' });
    resolveAliases(doc);
    keepOnly(doc, ['services'], (name) => oneShots.includes(name));
    for (const section of SECTIONS) {
      const names = used[section];
      if (names) keepOnly(doc, [section], (name) => names.has(name));
    }
    return doc.toString();
  });
}

function resolveAliases(doc: Document): void {
  visit(doc, {
    Alias(_, alias) {
      const target = alias.resolve(doc);
      if (!isNode(target)) return undefined;
      const node = target.clone() as Node;
      delete node.anchor;
      return node;
    },
  });
}

function keepOnly(doc: Document, at: string[], keep: (name: string) => boolean): void {
  const map = doc.getIn(at, true);
  if (!isMap(map)) return;
  // A merge key (<<) brings in entries of its own: kept, with what it merges.
  map.items = map.items.filter(
    (pair) => isScalar(pair.key) && (pair.key.value === '<<' || keep(String(pair.key.value))),
  );
}

type Def = Record<string, unknown>;

function usedByOneShots(texts: string[], oneShots: string[]): Used {
  const used: Used = {
    networks: new Set(),
    volumes: new Set(),
    secrets: new Set(),
    configs: new Set(),
  };
  const add = (section: Section, name: unknown) => {
    if (typeof name !== 'string') return;
    if (name.includes('$')) used[section] = undefined;
    else used[section]?.add(name);
  };
  const docs = texts.map(
    (text) => parse(text, { merge: true }) as { services?: Record<string, unknown> } | null,
  );
  for (const name of oneShots) {
    const defs = docs.map((doc) => doc?.services?.[name]).filter((d): d is Def => isDef(d));
    // A service that names no network in any file is on the stack's default network.
    if (!defs.some((d) => d.networks != null)) add('networks', 'default');
    for (const def of defs) addUses(def, add);
  }
  return used;
}

const isDef = (v: unknown): v is Def => Boolean(v) && typeof v === 'object' && !Array.isArray(v);

function addUses(def: Def, add: (section: Section, name: unknown) => void): void {
  for (const network of names(def.networks)) add('networks', network);
  for (const source of list(def.secrets)) add('secrets', sourceOf(source));
  for (const source of list(def.configs)) add('configs', sourceOf(source));
  for (const volume of list(def.volumes)) add('volumes', namedVolume(volume));
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** A list of names, or a mapping keyed by them (networks: [a] or networks: {a: {aliases: …}}). */
function names(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  return v && typeof v === 'object' ? Object.keys(v) : [];
}

/** secrets: [name] or [{source: name, target: …}] */
const sourceOf = (v: unknown): unknown => (v && typeof v === 'object' ? (v as Def).source : v);

/** The named volume a service's volume entry mounts, if it mounts one (not a bind mount or tmpfs). */
function namedVolume(v: unknown): unknown {
  if (v && typeof v === 'object') {
    const { type, source } = v as Def;
    return type === undefined || type === 'volume' ? source : undefined;
  }
  if (typeof v !== 'string' || !v.includes(':')) return undefined; // an anonymous volume
  const source = v.split(':')[0];
  return /^[./~]/.test(source) ? undefined : source;
}
