import { run, type RunOptions, type RunResult } from './exec.js';

/**
 * The one way to run the docker CLI: every call gets the private DOCKER_CONFIG (registry
 * credentials) and the engine it is meant for (the runner's own, or the manager's through the tunnel).
 */
export class DockerCli {
  constructor(
    readonly configDir: string,
    readonly host?: string,
  ) {}

  /** The same CLI aimed at another engine, e.g. unix:///tmp/x/docker.sock for the tunnel. */
  on(host: string): DockerCli {
    return new DockerCli(this.configDir, host);
  }

  env(extra: Record<string, string> = {}): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    env.DOCKER_CONFIG = this.configDir;
    if (this.host) env.DOCKER_HOST = this.host;
    return { ...env, ...extra };
  }

  run(args: string[], options: RunOptions = {}, allowFailure = false): Promise<RunResult> {
    return run('docker', args, { ...options, env: this.env(options.env) }, allowFailure);
  }
}
