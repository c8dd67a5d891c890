import fs from 'node:fs';
import { parse } from 'yaml';

interface ServiceDef {
  image?: unknown;
  deploy?: { mode?: unknown; restart_policy?: { condition?: unknown } };
}

/**
 * Reads and checks the stack files before anything is deployed: each exists and parses; together
 * (later files override earlier ones, as with docker stack deploy -c a.yml -c b.yml) they have an image
 * that uses the version variable, and each one-shot service is in them and can finish (no restart on
 * success). Returns the names of their services, their compose version, whether every image is
 * pinned (see everyImagePinned) and which services are jobs, or the problem (to follow "stack-file").
 */
export function readStackFile(
  files: string[],
  versionVariable: string,
  oneShot: string[],
): { services: string[]; version?: string; everyImagePinned: boolean; jobs: string[] } | { problem: string } {
  const checked = checkServices(files, versionVariable, oneShot);
  if (typeof checked === 'string') return { problem: checked };
  // version: 3.8 unquoted is a number; docker reads it as the text it formats it to (3.10 is "3.1").
  const version = checked.version;
  const text = typeof version === 'string' || typeof version === 'number' ? String(version) : undefined;
  return {
    services: Object.keys(checked.services),
    ...(text ? { version: text } : {}),
    everyImagePinned: everyImagePinned(checked.services, versionVariable),
    jobs: Object.keys(checked.services).filter((name) => isJob(checked.services[name])),
  };
}

/**
 * Every service's image names a digest: through the version variable (the action gives it TAG@DIGEST)
 * or written in the stack file (postgres:16@sha256:...). docker stack deploy then has nothing to ask
 * the registry.
 */
function everyImagePinned(services: Record<string, ServiceDef>, versionVariable: string): boolean {
  return Object.values(services).every((s) => {
    const image = typeof s?.image === 'string' ? s.image : '';
    return usesVariable(image, versionVariable) || /@sha256:[0-9a-f]{64}$/.test(image);
  });
}

const isJob = (s: ServiceDef | undefined) =>
  s?.deploy?.mode === 'replicated-job' || s?.deploy?.mode === 'global-job';

const usesVariable = (image: string, variable: string) => new RegExp(`\\$\\{?${variable}\\b`).test(image);

/**
 * The stack files parsed (YAML merge keys included; YAML 1.2 unless asked for 1.1, whose numbers and
 * booleans some docker versions follow) and merged: mappings
 * key by key, a later scalar over an earlier one, and lists joined, so that a check sees every entry
 * any file gives (docker replaces some lists, such as command; no check reads those).
 */
export function loadStackFiles(
  files: string[],
  yamlVersion: '1.1' | '1.2' = '1.2',
): { doc: unknown } | { problem: string } {
  let doc: unknown = {};
  for (const file of files) {
    if (!fs.existsSync(file))
      return { problem: `"${file}" does not exist: set stack-file to your stack's compose file(s)` };
    try {
      doc = merge(doc, parse(fs.readFileSync(file, 'utf8'), { version: yamlVersion, merge: true }));
    } catch (e) {
      return { problem: `"${file}" is not valid YAML: ${(e as Error).message.split('\n')[0]}` };
    }
  }
  return { doc };
}

function isMap(v: unknown): v is Record<string, unknown> {
  return Boolean(v) && typeof v === 'object' && !Array.isArray(v);
}

function merge(base: unknown, over: unknown): unknown {
  if (isMap(base) && isMap(over)) {
    const out = { ...base };
    for (const [k, v] of Object.entries(over)) out[k] = k in base ? merge(base[k], v) : v;
    return out;
  }
  if (Array.isArray(base) && Array.isArray(over)) return [...base, ...over];
  return over === undefined || over === null ? base : over;
}

function checkServices(
  files: string[],
  versionVariable: string,
  oneShot: string[],
): string | { services: Record<string, ServiceDef>; version?: unknown } {
  const loaded = loadStackFiles(files);
  if ('problem' in loaded) return loaded.problem;
  const named = files.map((f) => `"${f}"`).join(' + ');
  const doc = loaded.doc as { services?: Record<string, ServiceDef>; version?: unknown } | null;
  const services = doc?.services;
  if (!services || typeof services !== 'object') return `${named} has no services: section`;
  const images = Object.values(services).map((s) => (typeof s?.image === 'string' ? s.image : ''));
  if (!images.some((image) => usesVariable(image, versionVariable))) {
    return `${named}: no service image uses \${${versionVariable}}, so the deploy would not change the image; write e.g. image: \${ECR_REGISTRY}/REPOSITORY:\${${versionVariable}}`;
  }
  for (const name of oneShot) {
    const service = services[name];
    if (!service) {
      return `${named} has no service "${name}" (named in one-shot-services); set one-shot-services to your one-shot services, or none`;
    }
    const job = isJob(service);
    const condition = service.deploy?.restart_policy?.condition;
    if (!job && condition !== 'on-failure' && condition !== 'none') {
      return `${named}: one-shot service "${name}" restarts even after it succeeds; give it deploy.restart_policy.condition: on-failure (or deploy.mode: replicated-job)`;
    }
  }
  return { services, version: doc?.version };
}
