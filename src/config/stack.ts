import {
  imageName,
  previewStackName,
  secretVariable,
  SERVICE_NAME_MAX,
  SWARM_NAME_MAX,
  versionedSecretName,
} from '../naming.js';
import fs from 'node:fs';
import path from 'node:path';
import {
  emptySecretProblem,
  ENV_NAME,
  parsePort,
  parseSecretLine,
  splitAssignment,
  type Inputs,
} from './inputs.js';
import type { PreviewAllowance, PullRequest, StackSecret } from './types.js';
import { workspaceFileProblem } from './workspace.js';

// Swarm's service names (STACK_SERVICE) must be DNS name components: no dots.
const STACK_NAME = new RegExp(`^[a-zA-Z0-9][a-zA-Z0-9_-]{0,${SERVICE_NAME_MAX - 1}}$`);
const SECRET_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** The stack's name: stack-name, or a preview's NAME-pr-N. */
export function readStackName(inputs: Inputs, preview: PullRequest | undefined): string {
  const base = inputs.required('stack-name', 'the Swarm stack to deploy, e.g. todobackend');
  const stackName = preview ? previewStackName(base, preview.number) : base;
  if (base && !STACK_NAME.test(stackName)) {
    inputs.problem(
      `stack-name "${stackName}" is not valid: letters, digits, _ - (starting with a letter or digit), at most ${SERVICE_NAME_MAX} characters`,
    );
  }
  return stackName;
}

/**
 * env-file: NAME=VALUE lines of a dotenv file ("export " allowed, # comments, values in single quotes
 * taken as they are, in double quotes with \\n \\" \\\\ escapes, unquoted ones up to a " #" comment).
 */
export function readEnvFile(inputs: Inputs, preview: WorkspaceOnly | undefined): Record<string, string> {
  const file = inputs.get('env-file');
  if (!file) return {};
  const outside = preview && workspaceFileProblem(file, preview);
  if (outside) {
    inputs.problem(
      `env-file "${file}" in a preview: the runner reads it, ${outside}; keep it in the repository`,
    );
    return {};
  }
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

/** In a preview, the runner reads a file only from the workspace (see workspaceFileProblem). */
type WorkspaceOnly = { dir: string; workspace: string };

/**
 * stack-env: NAME=VALUE lines, and NAME alone for the step's environment's value of NAME (as docker
 * run -e NAME does), which must then be set.
 */
function readStackEnvInput(inputs: Inputs, env: NodeJS.ProcessEnv): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of inputs.lines('stack-env')) {
    const { name, value } = splitAssignment(line);
    if (!ENV_NAME.test(name)) {
      inputs.problem(
        `stack-env: "${line}" is not NAME=VALUE, or NAME alone for the step's environment's value (one per line)`,
      );
    } else if (value !== undefined) {
      vars[name] = value;
    } else if (env[name] === undefined) {
      inputs.problem(
        `stack-env: ${name} takes its value from the step's environment, which has no ${name}: add "env: ${name}: ..." to the step, or write ${name}=VALUE`,
      );
    } else {
      vars[name] = env[name];
    }
  }
  return vars;
}

/**
 * The stack files and what the deploy gives them to interpolate. The files themselves are read by
 * docker (see stack/); here they must exist, and in a preview lie in the workspace.
 */
export function readStackFileInputs(
  inputs: Inputs,
  env: NodeJS.ProcessEnv,
  preview: WorkspaceOnly | undefined,
) {
  const versionVariable = inputs.get('version-variable');
  if (!ENV_NAME.test(versionVariable))
    inputs.problem(`version-variable "${versionVariable}" is not a variable name`);
  const envBySource = {
    'env-file': readEnvFile(inputs, preview),
    'stack-env': readStackEnvInput(inputs, env),
  };
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
  for (const file of stackFiles) {
    if (!fs.existsSync(file))
      inputs.problem(`stack-file "${file}" does not exist: set stack-file to your stack's compose file(s)`);
    else if (preview && workspaceFileProblem(file, preview))
      inputs.problem(
        `stack-file "${file}" in a preview: the runner reads it, ${workspaceFileProblem(file, preview)}`,
      );
  }
  return { stackFiles, versionVariable, stackEnv, envBySource, oneShotServices, oneShotsFirst };
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
    const parsed = parseSecretLine(line, SECRET_NAME);
    if (!parsed) {
      inputs.problem(
        `stack-secrets: "${line}" is not NAME=ENV_VARIABLE (the secret's name in the stack file, then the environment variable holding its value)`,
      );
      continue;
    }
    const { name, variable: envVariable } = parsed;
    const value = env[envVariable] ?? '';
    if (!value && needValues) inputs.problem(emptySecretProblem('stack-secrets', name, envVariable));
    const variable = secretVariable(name);
    const other = byVariable.get(variable);
    if (other !== undefined && other !== name)
      inputs.problem(
        `stack-secrets: ${other} and ${name} would both be given to the stack file as ${variable}; rename one`,
      );
    byVariable.set(variable, name);
    const secret = { name, env: envVariable, value };
    if (versionedSecretName(stackName, secret, '').length > SWARM_NAME_MAX)
      inputs.problem(
        `stack-secrets: ${name} is too long for a Swarm secret name with the stack's name: shorten it`,
      );
    secrets.push(secret);
  }
  return secrets;
}

/**
 * What steers the docker CLI, the Go runtime it runs on, or the loader, rather than a stack file: its own
 * settings, the dynamic loader's, its PATH, HOME (a stack's ~), PWD (where it takes relative paths
 * from) and temporary folder.
 */
const STEERS_DOCKER =
  /^(DOCKER_|LD_|GODEBUG$|GOMAXPROCS$|GOGC$|GOMEMLIMIT$|GOTRACEBACK$|PATH$|HOME$|PWD$|TMPDIR$)/;

/**
 * stack-env and env-file may not name what steers docker (STEERS_DOCKER), nor a variable the action sets
 * itself: STACK_NAME, ECR_REGISTRY, ECR_IMAGE, the version variable, the secrets' names, and in a preview
 * PR_NUMBER and PREVIEW_PORT.
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
    'ECR_IMAGE',
    versionVariable,
    ...secrets.map((s) => secretVariable(s.name)),
    ...(preview ? ['PR_NUMBER', 'PREVIEW_PORT'] : []),
  ]);
  for (const [source, vars] of Object.entries(envBySource)) {
    for (const name of Object.keys(vars)) {
      if (STEERS_DOCKER.test(name))
        inputs.problem(`${source}: ${name} would steer the docker CLI, not the stack file; remove it`);
      else if (own.has(name)) inputs.problem(`${source}: ${name} is set by the action itself; remove it`);
    }
  }
}

/**
 * What the stack file can interpolate: stack-env, then the action's own variables (ECR_IMAGE is
 * ecr-repository's whole reference, REGISTRY/REPOSITORY:TAG, which the deploy pins to its digest) and
 * secret names.
 */
export function stackVariables(
  config: {
    stackEnv: Record<string, string>;
    stackName: string;
    versionVariable: string;
    repository: string;
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
    ECR_IMAGE: imageName(registry, config.repository, config.tag),
    [config.versionVariable]: config.tag,
    ...secretNames,
  };
}

/** A preview allowance that grants nothing (preview-allow empty). */
export function noAllowance(): PreviewAllowance {
  return {
    bind: [],
    network: [],
    volume: [],
    secret: [],
    config: [],
    repository: [],
    option: [],
    port: [],
    label: [],
  };
}

/** preview-allow: kind:value entries (bind:/path, network:NAME and the like, option:KEY, port:N, label:PREFIX). */
export function readPreviewAllowance(inputs: Inputs): PreviewAllowance {
  const allow = noAllowance();
  const kinds = Object.keys(allow);
  for (const entry of inputs.list('preview-allow')) {
    const m = /^(\w+):(.+)$/.exec(entry);
    const kind = m?.[1] as keyof PreviewAllowance | undefined;
    const value = m?.[2].trim() ?? '';
    if (!kind || !kinds.includes(kind)) {
      inputs.problem(
        `preview-allow: "${entry}" is not one of bind:/HOST/PATH, network:NAME, volume:NAME, secret:NAME, config:NAME, repository:NAME, option:KEY, port:NUMBER or label:PREFIX`,
      );
    } else if (kind === 'bind' && !path.posix.isAbsolute(value)) {
      inputs.problem(`preview-allow: "${entry}": a bind mount is allowed by its absolute host path`);
    } else if (kind === 'option' && !/^[a-z_][a-z0-9_.-]*$/.test(value)) {
      inputs.problem(
        `preview-allow: "${entry}": an option is a key as the preview policy names it (privileged, deploy.placement, mount.npipe, networks.ipam)`,
      );
    } else if (kind === 'port') {
      const port = parsePort(value);
      if (port === undefined) inputs.problem(`preview-allow: "${entry}": a port is a number from 1 to 65535`);
      else allow.port.push(port);
    } else {
      allow[kind].push(kind === 'bind' ? path.posix.resolve(value) : value);
    }
  }
  return allow;
}
