import fs from 'node:fs';
import path from 'node:path';
// ssh2 is CommonJS: a default import works under Node's native ESM as well as in the bundle.
import ssh2 from 'ssh2';
import { parseHostKeyPin, type HostKeyPin } from '../ssh/hostkey.js';

import { readStackFile } from './stackfile.js';
import { previewStackName, previewTagPrefix, SWARM_NAME_MAX, versionedSecretName } from '../naming.js';

export interface SshConfig {
  host: string;
  port: number;
  user: string;
  privateKey: string;
  passphrase?: string;
  hostKey: HostKeyPin;
  remoteSocket: string;
  /** A bastion the manager is reached through (same key), its host key pinned too. */
  jump?: { host: string; port: number; user: string; hostKey: HostKeyPin };
  /** Seconds to keep trying to re-establish a dropped connection. */
  reconnectTimeout: number;
}

/** deploy: the pipeline; preview: a stack per pull request; teardown: remove a preview; promote: release a tested image. */
export type Mode = 'deploy' | 'preview' | 'teardown' | 'promote';
const MODES: Mode[] = ['deploy', 'preview', 'teardown', 'promote'];

/** A Swarm secret the action keeps for the stack: its name in the stack file and the variable holding its value. */
export interface StackSecret {
  name: string;
  env: string;
  value: string;
}

export interface Config {
  mode: Mode;
  /** The commit deployed (a pull request's head commit in preview mode); may be empty for teardown. */
  sha: string;
  /** The pull request a preview or teardown is for, and the port its stack publishes on. */
  preview?: { number: number; port: number };
  /** promote: the tag of the image already built for the commit, given the release tag and extra tags. */
  sourceTag?: string;
  awsRegion?: string;
  repository: string;
  tag: string;
  extraTags: string[];
  build: boolean;
  context: string;
  dockerfile?: string;
  buildArgs: string[];
  target?: string;
  ssh: SshConfig;
  stackName: string;
  stackFile: string;
  /** The services the stack file defines (empty for teardown). */
  stackServices: string[];
  versionVariable: string;
  stackEnv: Record<string, string>;
  oneShotServices: string[];
  oneShotTimeout: number;
  convergeTimeout: number;
  acceptance: boolean;
  appUrl: string;
  acceptanceCommand: string[];
  acceptanceArgs: string[];
  acceptanceTimeout: number;
  lockTimeout: number;
  rollbackOnFailure: boolean;
  /** docker stack deploy --prune: remove the stack's services the stack file no longer has. */
  prune: boolean;
  stackSecrets: StackSecret[];
  /** teardown: also delete the pull request's image tags from ECR. */
  deleteImages: boolean;
  /** For GitHub Deployments and the pull request comment (preview and teardown); empty turns them off. */
  githubToken: string;
}

/** Thrown for bad inputs: one line per problem, each naming the input and the fix. */
export class InputError extends Error {
  constructor(public readonly problems: string[]) {
    super(
      problems.length === 1
        ? problems[0]
        : `${problems.length} inputs need fixing:\n${problems.map((p) => `- ${p}`).join('\n')}`,
    );
    this.name = 'InputError';
  }
}

export type InputReader = (name: string) => string;

/**
 * action.yml's defaults (a unit test holds the two equal). The runner sets every one of them as an
 * input, so no rule may read an input that has a default as "given by the user"; the code falls back
 * to them only when a user passes an empty value. github-token's default is an expression: empty
 * means no token.
 */
export const INPUT_DEFAULTS: Readonly<Record<string, string>> = {
  mode: 'deploy',
  'tag-format': 'short',
  build: 'true',
  context: '.',
  'ssh-port': '22',
  'ssh-user': 'docker',
  'ssh-jump-port': '22',
  'ssh-reconnect-timeout': '60',
  'remote-docker-socket': '/var/run/docker.sock',
  'stack-file': 'stack.yml',
  'version-variable': 'APP_VERSION',
  'one-shot-services': 'migrate',
  'one-shot-timeout': '600',
  'converge-timeout': '300',
  acceptance: 'true',
  'acceptance-command': 'bats /app/src/acceptance.bats',
  'acceptance-timeout': '600',
  'lock-timeout': '600',
  'rollback-on-failure': 'false',
  prune: 'false',
  'preview-port-base': '20000',
  'delete-images': 'false',
};

const STACK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ECR_REPOSITORY = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const DOCKER_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const HOST = /^[A-Za-z0-9.:-]+$/;
const SECRET_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** The app URL with {stack}, {pr} and {port} filled in. */
function expandUrl(template: string, values: { stack: string; pr?: number; port?: number }): string {
  return template
    .replaceAll('{stack}', values.stack)
    .replaceAll('{pr}', String(values.pr ?? ''))
    .replaceAll('{port}', String(values.port ?? ''));
}

/** Splits a command line into words; single and double quotes group, backslash escapes. */
export function splitArgs(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) word += text[++i];
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new Error(`has an unclosed ${quote}`);
  if (inWord) words.push(word);
  return words;
}

function list(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

function lines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s && !s.startsWith('#'));
}

/**
 * Reads and validates every input into one Config. Nothing here has side effects besides reading
 * the stack file, so a bad input stops the run before anything is touched.
 */
export function readConfig(
  input: InputReader,
  env: NodeJS.ProcessEnv = process.env,
  /** The workflow's event payload (@actions/github reads it once, as context.payload). */
  event: Record<string, unknown> = {},
): Config {
  const problems: string[] = [];
  /** The input, or action.yml's default when it is empty. */
  const get = (name: string) => input(name).trim() || (INPUT_DEFAULTS[name] ?? '');
  const required = (name: string, hint: string) => {
    const v = get(name);
    if (!v) problems.push(`${name} is required: ${hint}`);
    return v;
  };
  const bool = (name: string) => {
    const v = get(name).toLowerCase();
    if (['true', 'yes', '1'].includes(v)) return true;
    if (['false', 'no', '0'].includes(v)) return false;
    problems.push(`${name} must be true or false, not "${get(name)}"`);
    return false;
  };
  const seconds = (name: string, allowZero = false) => {
    const v = get(name);
    const m = /^(\d+)(s|m)?$/.exec(v);
    if (!m || (Number(m[1]) === 0 && !allowZero)) {
      const what = allowZero ? 'a number of seconds' : 'a positive number of seconds';
      problems.push(`${name} must be ${what} (e.g. 300, or 5m), not "${v}"`);
      return 0;
    }
    return Number(m[1]) * (m[2] === 'm' ? 60 : 1);
  };
  const words = (name: string) => {
    try {
      return splitArgs(get(name));
    } catch (e) {
      problems.push(`${name} ${(e as Error).message}; quote each word at most once`);
      return [];
    }
  };
  const assignments = (name: string) => {
    const out: Record<string, string> = {};
    for (const line of lines(input(name))) {
      const eq = line.indexOf('=');
      const key = eq > 0 ? line.slice(0, eq).trim() : '';
      if (!ENV_NAME.test(key)) {
        problems.push(`${name}: "${line}" is not NAME=VALUE (one per line)`);
        continue;
      }
      out[key] = line.slice(eq + 1).trim();
    }
    return out;
  };

  const modeText = get('mode');
  const knownMode = MODES.find((m) => m === modeText);
  if (!knownMode) problems.push(`mode must be one of ${MODES.join(', ')}, not "${modeText}"`);
  const mode = knownMode ?? 'deploy';
  const teardown = mode === 'teardown';
  const pullRequest = event.pull_request as { number?: number; head?: { sha?: string } } | undefined;

  const deleteImages = bool('delete-images');
  if (deleteImages && !teardown) problems.push('delete-images only applies to mode: teardown; remove it');
  const repository =
    teardown && !deleteImages
      ? get('ecr-repository')
      : required('ecr-repository', 'the ECR repository name, e.g. docker-in-aws/todobackend');
  if (repository && !ECR_REPOSITORY.test(repository)) {
    problems.push(
      `ecr-repository "${repository}" is not a valid repository name (lower case letters, digits, . _ - and /; no registry host)`,
    );
  }

  let preview: Config['preview'];
  if (mode === 'preview' || teardown) {
    const prText = get('pr-number') || String(pullRequest?.number ?? '');
    const number = Number(prText);
    // Only a preview publishes on a port: teardown ignores preview-port-base (it always has a value).
    const portBaseText = get('preview-port-base');
    const portBase = Number(portBaseText);
    if (!/^[1-9]\d*$/.test(prText)) {
      problems.push(
        prText
          ? `pr-number must be a pull request number, not "${prText}"`
          : `pr-number is required in mode ${mode} outside a pull_request event: set pr-number, or run on pull_request`,
      );
    } else if (
      mode === 'preview' &&
      (!/^\d+$/.test(portBaseText) || portBase < 1 || portBase + number > 65535)
    ) {
      problems.push(
        `preview-port-base "${portBaseText}" plus pull request number ${number} is not a TCP port (1-65535): lower preview-port-base`,
      );
    } else {
      preview = { number, port: portBase + number };
    }
  }

  // A preview deploys the pull request's head commit, not the merge commit GitHub checks out.
  const sha = get('sha') || (preview ? pullRequest?.head?.sha : undefined) || env.GITHUB_SHA || '';
  const validSha = /^[0-9a-f]{7,40}$/.test(sha);
  const tagFormat = get('tag-format');
  if (!['short', 'full'].includes(tagFormat))
    problems.push(`tag-format must be short or full, not "${tagFormat}"`);
  const shaTag = tagFormat === 'full' ? sha : sha.slice(0, 7);
  let tag = get('image-tag');
  let sourceTag: string | undefined;
  if (mode === 'promote') {
    const refTag = /^refs\/tags\/(.+)$/.exec(env.GITHUB_REF ?? '')?.[1];
    const releaseTag = (event.release as { tag_name?: string } | undefined)?.tag_name;
    const version = get('release-tag') || releaseTag || refTag || '';
    if (!version) {
      problems.push(
        'release-tag is required in mode promote outside a tag push or release event, e.g. v1.2.3',
      );
    } else if (!DOCKER_TAG.test(version)) {
      problems.push(`release-tag "${version}" is not a valid Docker tag`);
    }
    sourceTag = tag || shaTag;
    if (!tag && !validSha)
      problems.push(
        `sha "${sha}" is not a commit SHA: set sha to the commit whose image to promote, or image-tag`,
      );
    tag = version;
  } else if (!tag && !teardown) {
    if (!validSha) {
      problems.push(`sha "${sha}" is not a commit SHA: set sha (default: github.sha) or image-tag`);
    } else {
      // Preview tags carry the pull request number, so a teardown deletes only that pull request's images.
      tag = preview ? `${previewTagPrefix(preview.number)}${shaTag}` : shaTag;
    }
  }
  if (tag && !DOCKER_TAG.test(tag)) problems.push(`image-tag "${tag}" is not a valid Docker tag`);
  const extraTags = list(input('extra-tags'));
  for (const t of extraTags)
    if (!DOCKER_TAG.test(t)) problems.push(`extra-tags: "${t}" is not a valid Docker tag`);

  const build = mode === 'deploy' || mode === 'preview' ? bool('build') : false;
  const context = get('context');
  const dockerfile = get('dockerfile') || undefined;
  if (build) {
    if (!fs.existsSync(context) || !fs.statSync(context).isDirectory()) {
      problems.push(`context "${context}" is not a directory: point it at the folder with your Dockerfile`);
    } else {
      const df = dockerfile ?? path.join(context, 'Dockerfile');
      if (!fs.existsSync(df)) problems.push(`dockerfile "${df}" does not exist: set dockerfile or context`);
    }
  }
  const buildArgs = lines(input('build-args'));
  for (const a of buildArgs) {
    if (!ENV_NAME.test(a.split('=')[0])) problems.push(`build-args: "${a}" is not NAME=VALUE (one per line)`);
  }

  /** An SSH server's address, port and pinned host key (the manager, or the jump host in front of it). */
  const endpoint = (
    names: { host: string; port: string; knownHosts: string },
    host: string,
    knownHostsHint: string,
  ) => {
    if (host && !HOST.test(host)) problems.push(`${names.host} "${host}" is not a host name or IP address`);
    const portText = get(names.port);
    const port = Number(portText);
    const portOk = /^\d+$/.test(portText) && port >= 1 && port <= 65535;
    if (!portOk) problems.push(`${names.port} must be a TCP port number (1-65535), not "${portText}"`);
    let hostKey: HostKeyPin = { keys: [], fingerprints: [], keyTypes: [] };
    const knownHosts = input(names.knownHosts);
    if (!knownHosts.trim()) {
      problems.push(`${names.knownHosts} is required${knownHostsHint}`);
    } else if (host && HOST.test(host) && portOk) {
      try {
        hostKey = parseHostKeyPin(knownHosts, host, port);
      } catch (e) {
        problems.push(`${names.knownHosts} ${(e as Error).message}`);
      }
    }
    return { host, port, hostKey };
  };

  const manager = endpoint(
    { host: 'ssh-host', port: 'ssh-port', knownHosts: 'ssh-known-hosts' },
    required('ssh-host', 'the address of a Swarm manager'),
    ': the manager\'s host key as a known_hosts line (ssh-keyscan HOST) or a "SHA256:..." fingerprint',
  );
  const user = get('ssh-user');
  const privateKey = input('ssh-private-key').trim();
  const passphrase = input('ssh-passphrase') || undefined;
  if (!privateKey) {
    problems.push(
      'ssh-private-key is required: the private key (PEM/OpenSSH text) of a user allowed on the manager',
    );
  } else {
    const parsed = ssh2.utils.parseKey(privateKey + '\n', passphrase);
    if (parsed instanceof Error) {
      const encrypted = /encrypted|passphrase/i.test(parsed.message);
      problems.push(
        encrypted
          ? `ssh-private-key is encrypted: ${passphrase ? 'ssh-passphrase is wrong' : 'set ssh-passphrase'}`
          : `ssh-private-key could not be read (${parsed.message}): paste the whole key, including its BEGIN/END lines`,
      );
    }
  }
  const jumpHost = get('ssh-jump-host');
  let jump: SshConfig['jump'];
  if (jumpHost) {
    const via = endpoint(
      { host: 'ssh-jump-host', port: 'ssh-jump-port', knownHosts: 'ssh-jump-known-hosts' },
      jumpHost,
      " with ssh-jump-host: the jump host's key, as for ssh-known-hosts",
    );
    jump = { ...via, user: get('ssh-jump-user') || user };
  } else {
    // Only inputs without a default: the runner always sets ssh-jump-port.
    for (const name of ['ssh-jump-user', 'ssh-jump-known-hosts']) {
      if (get(name))
        problems.push(`${name} is set but ssh-jump-host is not: set ssh-jump-host, or remove ${name}`);
    }
  }
  const remoteSocket = get('remote-docker-socket');
  if (!remoteSocket.startsWith('/'))
    problems.push(`remote-docker-socket must be an absolute path, not "${remoteSocket}"`);

  const baseStack = required('stack-name', 'the Swarm stack to deploy, e.g. todobackend');
  const stackName = preview ? previewStackName(baseStack, preview.number) : baseStack;
  if (baseStack && !STACK_NAME.test(stackName)) {
    problems.push(
      `stack-name "${stackName}" is not valid: letters, digits, _ . - (starting with a letter or digit), at most 63 characters`,
    );
  }
  const versionVariable = get('version-variable');
  if (!ENV_NAME.test(versionVariable))
    problems.push(`version-variable "${versionVariable}" is not a variable name`);
  const stackEnv = assignments('stack-env');
  const oneShotServices = list(get('one-shot-services')).filter((s) => s !== 'none');
  const stackFile = get('stack-file');
  let stackServices: string[] = [];
  if (!teardown) {
    const read = readStackFile(stackFile, versionVariable, oneShotServices);
    if ('problem' in read) problems.push(`stack-file ${read.problem}`);
    else stackServices = read.services;
  }

  const stackSecrets: StackSecret[] = [];
  for (const line of lines(input('stack-secrets'))) {
    const m = /^([^=\s]+)\s*=\s*(\S+)$/.exec(line);
    if (!m || !SECRET_NAME.test(m[1]) || !ENV_NAME.test(m[2])) {
      problems.push(
        `stack-secrets: "${line}" is not NAME=ENV_VARIABLE (the secret's name in the stack file, then the environment variable holding its value)`,
      );
      continue;
    }
    const value = env[m[2]] ?? '';
    if (!value && !teardown) {
      problems.push(
        `stack-secrets: ${m[1]} takes its value from ${m[2]}, which is empty: add "env: ${m[2]}: \${{ secrets.${m[2]} }}" to the step`,
      );
    }
    const secret = { name: m[1], env: m[2], value };
    if (versionedSecretName(stackName, secret, '').length > SWARM_NAME_MAX)
      problems.push(
        `stack-secrets: ${m[1]} is too long for a Swarm secret name with the stack's name: shorten it`,
      );
    stackSecrets.push(secret);
  }

  const acceptance = !teardown && bool('acceptance');
  const rawUrl = get('app-url');
  const appUrl = rawUrl && expandUrl(rawUrl, { stack: stackName, pr: preview?.number, port: preview?.port });
  if (!preview && /\{(pr|port)\}/.test(rawUrl))
    problems.push(`app-url "${rawUrl}" uses {pr} or {port}, which exist only in mode preview`);
  if (acceptance && !appUrl) {
    problems.push('app-url is required when acceptance is on: the load balancer URL the tests run against');
  } else if (appUrl && !/^https?:\/\/[^\s/]+/.test(appUrl)) {
    problems.push(`app-url "${appUrl}" must be an http:// or https:// URL`);
  }

  const config: Config = {
    mode,
    sha: validSha ? sha : '',
    preview,
    sourceTag,
    awsRegion: get('aws-region') || undefined,
    repository,
    tag,
    extraTags,
    build,
    context,
    dockerfile,
    buildArgs,
    target: get('target') || undefined,
    ssh: {
      ...manager,
      user,
      privateKey,
      passphrase,
      remoteSocket,
      jump,
      reconnectTimeout: seconds('ssh-reconnect-timeout'),
    },
    stackName,
    stackFile,
    stackServices,
    versionVariable,
    stackEnv,
    oneShotServices,
    oneShotTimeout: seconds('one-shot-timeout'),
    convergeTimeout: seconds('converge-timeout'),
    acceptance,
    appUrl,
    acceptanceCommand: words('acceptance-command'),
    acceptanceArgs: words('acceptance-args'),
    acceptanceTimeout: seconds('acceptance-timeout'),
    lockTimeout: seconds('lock-timeout', true),
    rollbackOnFailure: bool('rollback-on-failure'),
    prune: !teardown && bool('prune'),
    stackSecrets,
    deleteImages,
    githubToken: get('github-token'),
  };
  if (problems.length > 0) throw new InputError(problems);
  return config;
}
