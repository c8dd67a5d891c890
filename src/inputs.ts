import fs from 'node:fs';
import path from 'node:path';
import { utils as sshUtils } from 'ssh2';
import { parseHostKeyPin, type HostKeyPin } from './hostkey.js';
import { checkStackFile } from './stackfile.js';

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

export interface Config {
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

const STACK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ECR_REPOSITORY = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const DOCKER_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const HOST = /^[A-Za-z0-9.:-]+$/;

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
export function readConfig(input: InputReader, env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const get = (name: string) => input(name).trim();
  const required = (name: string, hint: string) => {
    const v = get(name);
    if (!v) problems.push(`${name} is required: ${hint}`);
    return v;
  };
  const bool = (name: string, fallback: boolean) => {
    const v = get(name).toLowerCase();
    if (!v) return fallback;
    if (['true', 'yes', '1'].includes(v)) return true;
    if (['false', 'no', '0'].includes(v)) return false;
    problems.push(`${name} must be true or false, not "${input(name).trim()}"`);
    return fallback;
  };
  const seconds = (name: string, fallback: number, allowZero = false) => {
    const v = get(name);
    if (!v) return fallback;
    const m = /^(\d+)(s|m)?$/.exec(v);
    if (!m || (Number(m[1]) === 0 && !allowZero)) {
      const what = allowZero ? 'a number of seconds' : 'a positive number of seconds';
      problems.push(`${name} must be ${what} (e.g. 300, or 5m), not "${v}"`);
      return fallback;
    }
    return Number(m[1]) * (m[2] === 'm' ? 60 : 1);
  };
  const words = (name: string, fallback: string) => {
    try {
      return splitArgs(get(name) || fallback);
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

  const repository = required('ecr-repository', 'the ECR repository name, e.g. docker-in-aws/todobackend');
  if (repository && !ECR_REPOSITORY.test(repository)) {
    problems.push(
      `ecr-repository "${repository}" is not a valid repository name (lower case letters, digits, . _ - and /; no registry host)`,
    );
  }

  const sha = get('sha') || env.GITHUB_SHA || '';
  const tagFormat = get('tag-format') || 'short';
  let tag = get('image-tag');
  if (!['short', 'full'].includes(tagFormat))
    problems.push(`tag-format must be short or full, not "${tagFormat}"`);
  if (!tag) {
    if (!/^[0-9a-f]{7,40}$/.test(sha)) {
      problems.push(`sha "${sha}" is not a commit SHA: set sha (default: github.sha) or image-tag`);
    } else {
      tag = tagFormat === 'full' ? sha : sha.slice(0, 7);
    }
  }
  if (tag && !DOCKER_TAG.test(tag)) problems.push(`image-tag "${tag}" is not a valid Docker tag`);
  const extraTags = list(input('extra-tags'));
  for (const t of extraTags)
    if (!DOCKER_TAG.test(t)) problems.push(`extra-tags: "${t}" is not a valid Docker tag`);

  const build = bool('build', true);
  const context = get('context') || '.';
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
    const portText = get(names.port) || '22';
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
  const user = get('ssh-user') || 'docker';
  const privateKey = input('ssh-private-key').trim();
  const passphrase = input('ssh-passphrase') || undefined;
  if (!privateKey) {
    problems.push(
      'ssh-private-key is required: the private key (PEM/OpenSSH text) of a user allowed on the manager',
    );
  } else {
    const parsed = sshUtils.parseKey(privateKey + '\n', passphrase);
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
    for (const name of ['ssh-jump-port', 'ssh-jump-user', 'ssh-jump-known-hosts']) {
      if (get(name))
        problems.push(`${name} is set but ssh-jump-host is not: set ssh-jump-host, or remove ${name}`);
    }
  }
  const remoteSocket = get('remote-docker-socket') || '/var/run/docker.sock';
  if (!remoteSocket.startsWith('/'))
    problems.push(`remote-docker-socket must be an absolute path, not "${remoteSocket}"`);

  const stackName = required('stack-name', 'the Swarm stack to deploy, e.g. todobackend');
  if (stackName && !STACK_NAME.test(stackName)) {
    problems.push(
      `stack-name "${stackName}" is not valid: letters, digits, _ . - (starting with a letter or digit)`,
    );
  }
  const versionVariable = get('version-variable') || 'APP_VERSION';
  if (!ENV_NAME.test(versionVariable))
    problems.push(`version-variable "${versionVariable}" is not a variable name`);
  const stackEnv = assignments('stack-env');
  const oneShotServices = list(
    get('one-shot-services') === '' ? 'migrate' : input('one-shot-services'),
  ).filter((s) => s !== 'none');
  const stackFile = get('stack-file') || 'stack.yml';
  const stackProblem = checkStackFile(stackFile, versionVariable, oneShotServices);
  if (stackProblem) problems.push(`stack-file ${stackProblem}`);

  const acceptance = bool('acceptance', true);
  const appUrl = get('app-url');
  if (acceptance && !appUrl) {
    problems.push('app-url is required when acceptance is on: the load balancer URL the tests run against');
  } else if (appUrl && !/^https?:\/\/[^\s/]+/.test(appUrl)) {
    problems.push(`app-url "${appUrl}" must be an http:// or https:// URL`);
  }

  const config: Config = {
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
      reconnectTimeout: seconds('ssh-reconnect-timeout', 60),
    },
    stackName,
    stackFile,
    versionVariable,
    stackEnv,
    oneShotServices,
    oneShotTimeout: seconds('one-shot-timeout', 600),
    convergeTimeout: seconds('converge-timeout', 300),
    acceptance,
    appUrl,
    acceptanceCommand: words('acceptance-command', 'bats /app/src/acceptance.bats'),
    acceptanceArgs: words('acceptance-args', ''),
    acceptanceTimeout: seconds('acceptance-timeout', 600),
    lockTimeout: seconds('lock-timeout', 600, true),
    rollbackOnFailure: bool('rollback-on-failure', false),
  };
  if (problems.length > 0) throw new InputError(problems);
  return config;
}
