import {
  previewStackName,
  secretVariable,
  stackServiceName,
  SWARM_NAME_MAX,
  versionedSecretName,
} from '../naming.js';
import fs from 'node:fs';
import path from 'node:path';
import { ENV_NAME, type Inputs } from './inputs.js';
import { interpolateAll, referencedVariables, stringsOf } from './interpolate.js';
import {
  ALLOWANCE_KINDS,
  HOST_OPTIONS,
  previewPolicyProblems,
  type PreviewAllowance,
} from './preview-policy.js';
import { loadStackFiles, readStackFile } from './stackfile.js';
import type { PullRequest, StackSecret } from './types.js';

// Swarm's service names (STACK_SERVICE) must be DNS name components: no dots.
const STACK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,62}$/;
const SECRET_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** The stack's name: stack-name, or a preview's NAME-pr-N. */
export function readStackName(inputs: Inputs, preview: PullRequest | undefined): string {
  const base = inputs.required('stack-name', 'the Swarm stack to deploy, e.g. todobackend');
  const stackName = preview ? previewStackName(base, preview.number) : base;
  if (base && !STACK_NAME.test(stackName)) {
    inputs.problem(
      `stack-name "${stackName}" is not valid: letters, digits, _ - (starting with a letter or digit), at most 63 characters`,
    );
  }
  return stackName;
}

/**
 * env-file: NAME=VALUE lines of a dotenv file ("export " allowed, # comments, values in single quotes
 * taken as they are, in double quotes with \\n \\" \\\\ escapes, unquoted ones up to a " #" comment).
 */
export function readEnvFile(inputs: Inputs): Record<string, string> {
  const file = inputs.get('env-file');
  if (!file) return {};
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    inputs.problem(
      `env-file "${file}" could not be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
    return {};
  }
  const vars: Record<string, string> = {};
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([^=\s]+)\s*=\s*(.*)$/.exec(line);
    if (!m || !ENV_NAME.test(m[1])) {
      inputs.problem(`env-file "${file}" line ${i + 1} is not NAME=VALUE`);
      continue;
    }
    vars[m[1]] = dotenvValue(m[2]);
  }
  return vars;
}

function dotenvValue(v: string): string {
  const single = /^'([^']*)'/.exec(v);
  if (single) return single[1];
  const double = /^"((?:[^"\\]|\\.)*)"/.exec(v);
  if (double) return double[1].replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c));
  return v.replace(/\s+#.*$/, '').trim();
}

/** The stack files, checked, and what the deploy gives them to interpolate. */
export function readStackFileInputs(inputs: Inputs) {
  const versionVariable = inputs.get('version-variable');
  if (!ENV_NAME.test(versionVariable))
    inputs.problem(`version-variable "${versionVariable}" is not a variable name`);
  const envBySource = { 'env-file': readEnvFile(inputs), 'stack-env': inputs.assignments('stack-env') };
  const stackEnv = { ...envBySource['env-file'], ...envBySource['stack-env'] };
  const listed = inputs.list('one-shot-services');
  if (listed.length === 0)
    inputs.problem(
      `one-shot-services "${inputs.get('one-shot-services')}" names no service: list your one-shot services, or write none`,
    );
  const oneShotServices = listed.filter((s) => s !== 'none');
  const oneShotsFirst = inputs.bool('one-shots-first');
  if (oneShotsFirst && listed.length > 0 && oneShotServices.length === 0)
    inputs.problem(
      'one-shots-first: true needs one-shot services: name them in one-shot-services, or remove one-shots-first',
    );
  const stackFiles = inputs.list('stack-file');
  const read = readStackFile(stackFiles, versionVariable, oneShotServices);
  if ('problem' in read) inputs.problem(`stack-file ${read.problem}`);
  else if (oneShotsFirst) checkOneShotsFirst(inputs, oneShotServices, read.jobs);
  const stackServices = 'services' in read ? read.services : [];
  const composeVersion = 'version' in read ? read.version : undefined;
  return {
    stackFiles,
    stackServices,
    composeVersion,
    everyImagePinned: 'everyImagePinned' in read && read.everyImagePinned,
    versionVariable,
    stackEnv,
    envBySource,
    oneShotServices,
    oneShotsFirst,
  };
}

/** one-shots-first deploys the one-shots, then the whole stack: a job would run twice (Swarm runs it again on every deploy). */
function checkOneShotsFirst(inputs: Inputs, oneShots: string[], jobs: string[]): void {
  for (const name of oneShots.filter((s) => jobs.includes(s)))
    inputs.problem(
      `one-shots-first: true would run job "${name}" twice (Swarm runs a job again on every docker stack deploy): give it deploy.restart_policy.condition: on-failure instead of deploy.mode: replicated-job, or remove one-shots-first`,
    );
}

/**
 * The Swarm secrets the action makes for the stack: NAME=ENV_VARIABLE lines, each value from the
 * step's environment (a teardown needs no values: it removes the stack's secrets by label).
 */
export function readStackSecrets(
  inputs: Inputs,
  env: NodeJS.ProcessEnv,
  stackName: string,
  needValues: boolean,
): StackSecret[] {
  const secrets: StackSecret[] = [];
  const byVariable = new Map<string, string>();
  for (const line of inputs.lines('stack-secrets')) {
    const m = /^([^=\s]+)\s*=\s*(\S+)$/.exec(line);
    if (!m || !SECRET_NAME.test(m[1]) || !ENV_NAME.test(m[2])) {
      inputs.problem(
        `stack-secrets: "${line}" is not NAME=ENV_VARIABLE (the secret's name in the stack file, then the environment variable holding its value)`,
      );
      continue;
    }
    const value = env[m[2]] ?? '';
    if (!value && needValues) {
      inputs.problem(
        `stack-secrets: ${m[1]} takes its value from ${m[2]}, which is empty: add "env: ${m[2]}: \${{ secrets.${m[2]} }}" to the step`,
      );
    }
    const variable = secretVariable(m[1]);
    const other = byVariable.get(variable);
    if (other !== undefined && other !== m[1])
      inputs.problem(
        `stack-secrets: ${other} and ${m[1]} would both be given to the stack file as ${variable}; rename one`,
      );
    byVariable.set(variable, m[1]);
    const secret = { name: m[1], env: m[2], value };
    if (versionedSecretName(stackName, secret, '').length > SWARM_NAME_MAX)
      inputs.problem(
        `stack-secrets: ${m[1]} is too long for a Swarm secret name with the stack's name: shorten it`,
      );
    secrets.push(secret);
  }
  return secrets;
}

/**
 * stack-env and env-file may not name what steers the docker CLI or the loader (DOCKER_*, LD_*, PATH, HOME), nor
 * a variable the action sets itself: STACK_NAME, ECR_REGISTRY, the version variable, the secrets'
 * names, and in a preview PR_NUMBER and PREVIEW_PORT.
 */
export function checkStackEnv(
  inputs: Inputs,
  envBySource: Record<'env-file' | 'stack-env', Record<string, string>>,
  {
    versionVariable,
    secrets,
    preview,
  }: { versionVariable: string; secrets: StackSecret[]; preview: boolean },
): void {
  const own = new Set([
    'STACK_NAME',
    'ECR_REGISTRY',
    versionVariable,
    ...secrets.map((s) => secretVariable(s.name)),
    ...(preview ? ['PR_NUMBER', 'PREVIEW_PORT'] : []),
  ]);
  for (const [source, vars] of Object.entries(envBySource)) {
    for (const name of Object.keys(vars)) {
      if (/^(DOCKER_|LD_)/.test(name) || name === 'PATH' || name === 'HOME')
        inputs.problem(`${source}: ${name} would steer the docker CLI, not the stack file; remove it`);
      else if (own.has(name)) inputs.problem(`${source}: ${name} is set by the action itself; remove it`);
    }
  }
}

/** Swarm refuses a service name over 63 characters: STACK_SERVICE must fit for every service of the file. */
export function checkServiceNames(inputs: Inputs, stackName: string, services: string[]): void {
  const tooLong = services.map((s) => stackServiceName(stackName, s)).filter((name) => name.length > 63);
  if (tooLong.length > 0)
    inputs.problem(
      `stack-name "${stackName}" makes service names longer than the 63 characters Swarm accepts (${tooLong.join(', ')}): shorten stack-name`,
    );
}

/** What the stack file can interpolate: stack-env, then the action's own variables and secret names. */
export function stackVariables(
  config: {
    stackEnv: Record<string, string>;
    stackName: string;
    versionVariable: string;
    tag: string;
    preview?: PullRequest;
  },
  registry: string,
  secretNames: Record<string, string>,
): Record<string, string> {
  return {
    ...config.stackEnv,
    STACK_NAME: config.stackName,
    ...(config.preview
      ? { PR_NUMBER: String(config.preview.number), PREVIEW_PORT: String(config.preview.port) }
      : {}),
    ECR_REGISTRY: registry,
    [config.versionVariable]: config.tag,
    ...secretNames,
  };
}

/** preview-allow: kind:value entries (bind:/path, object:NAME, option:NAME, port:N). */
export function readPreviewAllowance(inputs: Inputs): PreviewAllowance {
  const allow: PreviewAllowance = { bind: [], object: [], option: [], port: [] };
  for (const entry of inputs.list('preview-allow')) {
    const m = /^(\w+):(.+)$/.exec(entry);
    const kind = m?.[1] as (typeof ALLOWANCE_KINDS)[number] | undefined;
    const value = m?.[2].trim() ?? '';
    const port = Number(value);
    if (!kind || !ALLOWANCE_KINDS.includes(kind)) {
      inputs.problem(
        `preview-allow: "${entry}" is not one of bind:/HOST/PATH, object:NAME, option:NAME or port:NUMBER`,
      );
    } else if (kind === 'bind' && !path.posix.isAbsolute(value)) {
      inputs.problem(`preview-allow: "${entry}": a bind mount is allowed by its absolute host path`);
    } else if (kind === 'option' && !HOST_OPTIONS.includes(value)) {
      inputs.problem(
        `preview-allow: "${entry}": the options a preview may be allowed are ${HOST_OPTIONS.join(', ')}`,
      );
    } else if (kind === 'port' && !(Number.isInteger(port) && port >= 1 && port <= 65535)) {
      inputs.problem(`preview-allow: "${entry}": a port is a number from 1 to 65535`);
    } else if (kind === 'port') {
      allow.port.push(port);
    } else {
      allow[kind].push(kind === 'bind' ? path.posix.normalize(value) : value);
    }
  }
  return allow;
}

/**
 * In a preview, the stack file as the docker CLI will deploy it (interpolated with the run's
 * variables) must keep to the preview's own stack: see preview-policy.ts.
 */
export function checkPreviewPolicy(
  inputs: Inputs,
  stack: { stackFiles: string[]; stackEnv: Record<string, string>; versionVariable: string },
  context: {
    stackName: string;
    tag: string;
    preview: PullRequest;
    secrets: StackSecret[];
    workspace: string;
  },
): void {
  const allow = readPreviewAllowance(inputs);
  const secretNames = Object.fromEntries(
    context.secrets.map((s) => [secretVariable(s.name), versionedSecretName(context.stackName, s, '')]),
  );
  const variables = stackVariables({ ...stack, ...context }, 'ecr-registry.invalid', secretNames);
  const problems = new Set<string>();
  const unknown = new Set<string>();
  // Read as YAML 1.2 and as 1.1 (020042 is octal there): a finding under either reading counts.
  for (const yamlVersion of ['1.2', '1.1'] as const) {
    const loaded = loadStackFiles(stack.stackFiles, yamlVersion);
    if ('problem' in loaded) return; // already reported for stack-file
    // The docker CLI also sees the runner's own variables (HOME, PATH, ...): a preview may use only the run's.
    for (const name of new Set(stringsOf(loaded.doc).flatMap(referencedVariables))) {
      if (!(name in variables)) unknown.add(name);
    }
    const doc = interpolateAll(loaded.doc, variables) as Record<string, unknown>;
    for (const problem of previewPolicyProblems(doc, {
      stack: context.stackName,
      port: context.preview.port,
      // docker resolves every file's relative paths from the first file's directory
      dir: path.dirname(path.resolve(stack.stackFiles[0] ?? '.')),
      workspace: context.workspace,
      allow,
    }))
      problems.add(problem);
  }
  const files = stack.stackFiles.map((f) => `"${f}"`).join(' + ');
  for (const name of unknown) {
    inputs.problem(
      `stack-file ${files} in a preview uses \${${name}}, which the run does not give it (docker would take it from the runner's environment): set it in stack-env or env-file`,
    );
  }
  for (const problem of problems) {
    inputs.problem(
      `stack-file ${files} in a preview (a pull request's stack on your swarm): ${problem}; see preview-allow`,
    );
  }
}
