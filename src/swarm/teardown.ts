import { setTimeout as sleep } from 'node:timers/promises';
import * as core from '@actions/core';
import type { DockerCli } from '../runner/docker.js';
import type { Engine } from './engine.js';
import { removeSecrets } from './secrets.js';
import { POLL_MS } from './stack.js';
import { stackFilter } from '../naming.js';

export interface TeardownResult {
  /** False when there was nothing of the stack to remove. */
  existed: boolean;
  services: string[];
  networks: string[];
  volumes: string[];
  secrets: string[];
}

/**
 * Removes a stack and waits until it is really gone: docker stack rm only asks Swarm to remove the
 * services, whose tasks then shut down; networks can only go once no task is attached, and Swarm
 * never removes volumes. Removes the stack's volumes and its exited containers on the manager, and
 * the secrets the action created for it.
 */
export async function teardownStack(
  cli: DockerCli,
  engine: Engine,
  stack: string,
  timeoutSeconds: number,
): Promise<TeardownResult> {
  const label = stackFilter(stack);
  const services = await engine.listServices(label);
  const serviceIds = new Set(services.map((s) => s.ID));
  const managerNode = await engine.nodeId();
  const tasks = serviceIds.size > 0 ? await engine.listTasks({ service: [...serviceIds] }) : [];
  // Nodes other than the manager that ran the stack's tasks: their local volumes are out of reach.
  const otherNodes = [
    ...new Set(tasks.filter((t) => t.NodeID && t.NodeID !== managerNode).map((t) => t.NodeID!)),
  ];
  const networks = (await engine.listNetworks(label)).map((n) => n.Name);
  const volumesBefore = (await engine.listVolumes(label)).map((v) => v.Name);
  const result: TeardownResult = {
    existed: services.length + networks.length + volumesBefore.length > 0,
    services: services.map((s) => s.Spec.Name).sort(),
    networks,
    volumes: [],
    secrets: [],
  };

  // docker stack rm may fail to remove a network while tasks are still leaving it; the loop below
  // removes it again once they are gone.
  if (services.length + networks.length > 0) await cli.run(['stack', 'rm', stack], {}, true);

  const deadline = Date.now() + timeoutSeconds * 1000;
  let remaining: string[] = [];
  for (;;) {
    remaining = [];
    const left = await engine.listServices(label);
    remaining.push(...left.map((s) => `service ${s.Spec.Name}`));
    const liveTasks = (await engine.listTasks({})).filter((t) => serviceIds.has(t.ServiceID));
    remaining.push(...liveTasks.map((t) => `task ${t.ID} (${t.Status.State})`));
    for (const c of await engine.listContainers(label)) {
      if (c.State === 'running' || c.State === 'restarting' || c.State === 'removing') {
        remaining.push(`container ${c.Names[0] ?? c.Id} (${c.State})`);
      } else {
        await engine.remove('containers', c.Id);
      }
    }
    if (left.length === 0 && liveTasks.length === 0) {
      for (const n of await engine.listNetworks(label)) {
        await engine.remove('networks', n.Id).catch(() => remaining.push(`network ${n.Name}`));
      }
      for (const v of await engine.listVolumes(label)) {
        try {
          await engine.remove('volumes', v.Name);
          result.volumes.push(v.Name);
        } catch {
          remaining.push(`volume ${v.Name}`);
        }
      }
    }
    if (remaining.length === 0) break;
    if (Date.now() > deadline) {
      throw new Error(
        `stack ${stack} was not gone after ${timeoutSeconds} s (converge-timeout); still there: ${remaining.join(', ')}`,
      );
    }
    await sleep(POLL_MS * 2);
  }
  result.secrets = await removeSecrets(engine, stack);
  if (otherNodes.length > 0) {
    core.warning(
      `the stack ran tasks on other nodes (${otherNodes.join(', ')}): volumes there are local to those nodes and were not removed`,
    );
  }
  return result;
}

/**
 * The repositories whose images a stack's services run under a tag starting with prefix (a preview's
 * pr-N-, which only the run's own images carry), for a teardown to delete them.
 */
export async function imageRepositories(engine: Engine, stack: string, prefix: string): Promise<string[]> {
  const repositories = new Set<string>();
  for (const service of await engine.listServices(stackFilter(stack))) {
    // A service's image reads REGISTRY/REPOSITORY:TAG@DIGEST.
    const m = /^[^/]+\/([^:@]+):([^@]+)/.exec(service.Spec.TaskTemplate.ContainerSpec?.Image ?? '');
    if (m && m[2].startsWith(prefix)) repositories.add(m[1]);
  }
  return [...repositories].sort();
}
