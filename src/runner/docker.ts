import { run, type RunOptions, type RunResult } from './exec.js';

/**
 * What a docker child process gets of the runner's environment: the system's basics, proxies, and
 * docker's own settings. Nothing else: the step's environment holds the inputs (the SSH key), the
 * runner's tokens, the AWS credentials and the stack secrets' values, and the docker CLI would
 * interpolate any of them into a stack file or pass them into a build or a test container.
 */
const ALLOWED = new Set([
  'PATH',
  'HOME',
  'USER',
  'LANG',
  'TZ',
  'TMPDIR',
  'XDG_RUNTIME_DIR',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'ALL_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'all_proxy',
  'DOCKER_HOST',
  'DOCKER_CONTEXT',
  'DOCKER_CERT_PATH',
  'DOCKER_TLS_VERIFY',
  'DOCKER_BUILDKIT',
  'DOCKER_DEFAULT_PLATFORM',
]);
const ALLOWED_PREFIXES = ['LC_', 'BUILDKIT_', 'BUILDX_'];

const allowed = (name: string) => ALLOWED.has(name) || ALLOWED_PREFIXES.some((p) => name.startsWith(p));

/** The allowed part of an environment: what every child process of the action gets (docker, git). */
export function allowedEnvironment(base: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined && allowed(k)) env[k] = v;
  return env;
}

/**
 * The one way to run the docker CLI: every call gets the private DOCKER_CONFIG (registry
 * credentials) and the engine it is meant for (the runner's own, or the manager's through the tunnel).
 */
export class DockerCli {
  constructor(
    readonly configDir: string,
    readonly host?: string,
    private readonly base: NodeJS.ProcessEnv = process.env,
  ) {}

  /** The same CLI aimed at another engine, e.g. unix:///tmp/x/docker.sock for the tunnel. */
  on(host: string): DockerCli {
    return new DockerCli(this.configDir, host, this.base);
  }

  /** The allowed part of the environment, then the call's own variables, then the action's DOCKER_*. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      ...allowedEnvironment(this.base),
      ...extra,
      DOCKER_CONFIG: this.configDir,
      ...(this.host ? { DOCKER_HOST: this.host } : {}),
    };
  }

  run(args: string[], options: RunOptions = {}, allowFailure = false): Promise<RunResult> {
    return run('docker', args, { ...options, env: this.env(options.env) }, allowFailure);
  }

  /**
   * A docker stack command (config, deploy): its environment is the stack's variables alone, nothing of
   * the runner's or the action's (its config and engine are given as flags). Docker looks variables up
   * there when it renders a stack, and again, for an environment entry or an env_file line without a
   * value, when it deploys one: what was rendered is what is deployed, and it holds only what the run
   * gave the stack.
   */
  stack(
    args: string[],
    variables: Record<string, string>,
    options: Omit<RunOptions, 'env'> = {},
    allowFailure = false,
  ): Promise<RunResult> {
    const target = ['--config', this.configDir, ...(this.host ? ['--host', this.host] : [])];
    return run('docker', [...target, 'stack', ...args], { ...options, env: variables }, allowFailure);
  }
}
