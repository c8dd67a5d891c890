import * as core from '@actions/core';
import type { CommonConfig as Config, TeardownConfig, Config as AnyConfig } from '../config/index.js';
import { imageName } from '../naming.js';
import { getRegistryAuth, type RegistryAuth } from '../registry/ecr.js';
import { basicAuth, checkRegistryAuth, writeDockerConfig } from '../registry/login.js';
import type { Secrets } from '../report/mask.js';
import type { Report } from '../report/summary.js';
import { DockerCli } from '../runner/docker.js';
import type { WorkDir } from '../runner/workdir.js';
import { openTunnel, tunnelDockerHost, type Admit, type Tunnel } from '../ssh/tunnel.js';
import { readStack, type RenderedStack } from '../stack/read.js';
import { Engine } from '../swarm/engine.js';
import { managerProblem } from '../swarm/manager.js';
import { acquireLock, lockHold, lockOwner, type Lock } from '../swarm/lock.js';
import type { Timeline } from '../timeline.js';

/** What a run holds on the manager, for cleanup to give back whatever phase it stopped in. */
export interface Held {
  /** The tunnel, possibly still opening. */
  tunnel?: Promise<Tunnel>;
  /** The Engine API client through the tunnel, once the manager answered. */
  engine?: Engine;
  lock?: Lock;
}

/** What every mode works with: its private work directory, the run's record, its phases. */
export interface Run {
  work: WorkDir;
  report: Report;
  held: Held;
  timeline: Timeline;
  /** The runner's own docker CLI, with the private DOCKER_CONFIG. */
  local: DockerCli;
  /** Every secret value the run knows, masked. */
  secrets: Secrets;
}

/** The manager as a mode uses it: the docker CLI through the tunnel and the Engine API client. */
export interface Manager {
  cli: DockerCli;
  engine: Engine;
}

/**
 * Only a manager of the swarm will do (ssh-host may list several): its engine answers on
 * remote-docker-socket, and it is a reachable manager.
 */
function admitManager(config: Config): Admit {
  return async (get, host) => {
    const problem = await managerProblem(get).catch((err: Error) => {
      throw new Error(
        `remote-docker-socket: no Docker engine answered at ${config.ssh.remoteSocket} on ${host} (${err.message.trim()})`,
        { cause: err },
      );
    });
    if (problem) throw new Error(`ssh-host: ${host} is not a manager to deploy through: ${problem}`);
  };
}

/** Starts the SSH handshake in the background (it runs while the image is built and pushed). */
export function startTunnel(config: Config, run: Run): Promise<Tunnel> {
  const started = Date.now();
  const tunnelReady = openTunnel(config.ssh, run.work.tunnel, admitManager(config)).then((t) => {
    core.info(`SSH tunnel to ${t.host()} ready after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return t;
  });
  tunnelReady.catch(() => undefined);
  run.held.tunnel = tunnelReady;
  return tunnelReady;
}

/** The manager, once the tunnel is up to one that will do. */
export function connect(run: Run, tunnelReady: Promise<Tunnel>): Promise<Manager> {
  return run.timeline.phase('SSH tunnel', async () => {
    const tunnel = await tunnelReady;
    const engine = new Engine(tunnel.socketPath, tunnel);
    run.held.engine = engine;
    return { cli: run.local.on(tunnel.dockerHost), engine };
  });
}

/** The stack's deploy lock, renewed until the run gives it back in cleanup, however long the run works. */
export async function takeLock(config: Config, run: Run, engine: Engine): Promise<void> {
  const hold = lockHold(config.ssh.reconnectTimeout);
  run.held.lock = await run.timeline.phase('Deploy lock', () =>
    acquireLock(engine, config.stackName, lockOwner(), hold, config.lockTimeout),
  );
}

/**
 * ECR credentials (masked, also in what goes to GitHub's API), checked with the registry. They are
 * written to the private DOCKER_CONFIG separately (see beginRollout).
 */
export function ecrLogin(config: Config, run: Run): Promise<RegistryAuth> {
  return run.timeline.phase('ECR login', async () => {
    const auth = await getRegistryAuth(config);
    run.secrets.add(auth.password, basicAuth(auth));
    await checkRegistryAuth(run.local, auth);
    core.info(`Logged in to ${auth.registry}`);
    return auth;
  });
}

/**
 * The docker CLI for stack commands: aimed at the manager through the tunnel, as the deploy is, so that
 * a stack rendered before the tunnel is up sees the same environment as its deploy (see
 * DockerCli.stack). Rendering contacts no engine.
 */
export const stackCli = (run: Pick<Run, 'local' | 'work'>): DockerCli =>
  run.local.on(tunnelDockerHost(run.work.tunnel));

/**
 * How a rollout starts: the SSH handshake in the background; ECR credentials, checked with the
 * registry; the stack rendered by docker with the registry's name and checked again (as main checked
 * it before anything started); then the credentials written to the private DOCKER_CONFIG, after
 * docker has read every file the stack names. Records the image the run deploys
 * (REGISTRY/REPOSITORY:TAG) for the summary and outputs.
 */
export async function beginRollout(
  config: Exclude<AnyConfig, TeardownConfig>,
  run: Run,
): Promise<{ tunnel: Promise<Tunnel>; auth: RegistryAuth; image: string; stack: RenderedStack }> {
  const tunnel = startTunnel(config, run);
  const auth = await ecrLogin(config, run);
  const stack = await run.timeline.phase('Stack file', () =>
    readStack(config, stackCli(run), auth.registry, process.env),
  );
  await writeDockerConfig(run.local.configDir, auth);
  const image = imageName(auth.registry, config.repository, config.tag);
  Object.assign(run.report, { image, tag: config.tag, registry: auth.registry });
  return { tunnel, auth, image, stack };
}
