import fs from 'node:fs';
import { parse } from 'yaml';

interface ServiceDef {
  image?: unknown;
  deploy?: { mode?: unknown; restart_policy?: { condition?: unknown } };
}

/**
 * Reads and checks the stack file before anything is deployed: it exists, parses, has an image that
 * uses the version variable, and each one-shot service is in it and can finish (no restart on
 * success). Returns the names of its services, or the problem (to follow "stack-file").
 */
export function readStackFile(
  file: string,
  versionVariable: string,
  oneShot: string[],
): { services: string[] } | { problem: string } {
  const problem = checkServices(file, versionVariable, oneShot);
  return typeof problem === 'string' ? { problem } : { services: Object.keys(problem) };
}

/** The stack file parsed as the docker CLI reads it (YAML merge keys included), or the problem. */
export function loadStackFile(file: string): { doc: unknown } | { problem: string } {
  if (!fs.existsSync(file))
    return { problem: `"${file}" does not exist: set stack-file to your stack's compose file` };
  try {
    return { doc: parse(fs.readFileSync(file, 'utf8'), { merge: true }) };
  } catch (e) {
    return { problem: `"${file}" is not valid YAML: ${(e as Error).message.split('\n')[0]}` };
  }
}

function checkServices(
  file: string,
  versionVariable: string,
  oneShot: string[],
): string | Record<string, ServiceDef> {
  const loaded = loadStackFile(file);
  if ('problem' in loaded) return loaded.problem;
  const doc = loaded.doc;
  const services = (doc as { services?: Record<string, ServiceDef> } | null)?.services;
  if (!services || typeof services !== 'object') return `"${file}" has no services: section`;
  const usesVersion = new RegExp(`\\$\\{?${versionVariable}\\b`);
  const images = Object.values(services).map((s) => (typeof s?.image === 'string' ? s.image : ''));
  if (!images.some((image) => usesVersion.test(image))) {
    return `"${file}": no service image uses \${${versionVariable}}, so the deploy would not change the image; write e.g. image: \${ECR_REGISTRY}/REPOSITORY:\${${versionVariable}}`;
  }
  for (const name of oneShot) {
    const service = services[name];
    if (!service) {
      return `"${file}" has no service "${name}" (named in one-shot-services); set one-shot-services to your one-shot services, or none`;
    }
    const job = service.deploy?.mode === 'replicated-job' || service.deploy?.mode === 'global-job';
    const condition = service.deploy?.restart_policy?.condition;
    if (!job && condition !== 'on-failure' && condition !== 'none') {
      return `"${file}": one-shot service "${name}" restarts even after it succeeds; give it deploy.restart_policy.condition: on-failure (or deploy.mode: replicated-job)`;
    }
  }
  return services;
}
