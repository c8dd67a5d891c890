import { isDeepStrictEqual } from 'node:util';
import { OBJECT_SECTIONS, record, referencesOf, section, type StackDoc } from './document.js';

/**
 * The rendering made ready to deploy: each image the run pinned (REPO:TAG becomes REPO:TAG@DIGEST),
 * the deploy labels added to every service's deploy.labels (a service's own kept beside them), and
 * what docker stack deploy would read again or ignores taken out: env_file (the rendering holds its
 * variables in environment already, and its relative path would not resolve from the work directory)
 * and build.
 */
export function deployDocument(
  doc: StackDoc,
  {
    pins,
    labels,
    imageLabel,
  }: {
    pins: Record<string, string>;
    labels: Record<string, string>;
    /** Set, on a service that runs one of the pinned images, to that image. */
    imageLabel?: string;
  },
): StackDoc {
  const services = Object.fromEntries(
    Object.entries(doc.services).map(([name, s]) => {
      const rest = { ...s };
      delete rest.env_file;
      delete rest.build;
      const pinned = s.image !== undefined ? pins[s.image] : undefined;
      if (s.image !== undefined) rest.image = pinned ?? s.image;
      const own = imageLabel && pinned ? { [imageLabel]: pinned } : {};
      const merged: Record<string, string> = { ...s.deploy?.labels, ...labels, ...own };
      // Empty maps are left out, as docker's reading of the file leaves them out.
      if (Object.keys(merged).length > 0) rest.deploy = { ...record(s.deploy), labels: merged };
      return [name, rest];
    }),
  );
  return { ...doc, services };
}

/**
 * The document cut down to the one-shot services and the networks, volumes, secrets and configs they
 * use, for them to be deployed alone (one-shots-first).
 */
export function oneShotDocument(doc: StackDoc, oneShots: string[]): StackDoc {
  const services = Object.fromEntries(
    Object.entries(doc.services).filter(([name]) => oneShots.includes(name)),
  );
  const cut: StackDoc = { ...doc, services };
  for (const kind of OBJECT_SECTIONS) {
    const used = new Set(Object.values(services).flatMap((s) => referencesOf(s)[kind]));
    const kept = Object.entries(section(doc, kind)).filter(([key]) => used.has(key));
    // An empty section is no section: docker's reading of the file leaves it out.
    if (kept.length > 0) cut[kind] = Object.fromEntries(kept);
    else delete cut[kind];
  }
  return cut;
}

/**
 * The text docker stack deploy reads: JSON (which is YAML) with every $ in a value doubled, because
 * docker interpolates the file again when it deploys it and $$ reads back as the $ the rendering
 * holds. Keys are not interpolated, so they are left alone.
 */
export function deployText(doc: StackDoc): string {
  return JSON.stringify(escapeDollars(doc), null, 2);
}

function escapeDollars(value: unknown): unknown {
  if (typeof value === 'string') return value.replaceAll('$', '$$$$');
  if (Array.isArray(value)) return value.map(escapeDollars);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeDollars(v)]));
  return value;
}

/**
 * Where docker's reading of the deploy file differs from the document it was written from (the first
 * difference, as a path), or undefined when it reads back the same.
 */
export function firstDifference(expected: unknown, read: unknown, at = ''): string | undefined {
  if (isDeepStrictEqual(expected, read)) return undefined;
  const isMap = (v: unknown) => v !== null && typeof v === 'object';
  if (!isMap(expected) || !isMap(read) || Array.isArray(expected) !== Array.isArray(read))
    return at || '(top)';
  const e = expected as Record<string, unknown>;
  const r = read as Record<string, unknown>;
  for (const key of new Set([...Object.keys(e), ...Object.keys(r)])) {
    const found = firstDifference(e[key], r[key], at ? `${at}.${key}` : key);
    if (found) return found;
  }
  return at || '(top)';
}
