import * as core from '@actions/core';
import { which } from '@actions/io';
import { allowedEnvironment } from './docker.js';
import { run } from './exec.js';

/**
 * What the runner must have before anything starts: Linux (the tunnel is a Unix socket, the tests a
 * Linux container) and a docker CLI on PATH; one that renders stacks (`docker stack config`, CLI 23
 * and later) when the mode deploys one. Returns one line per problem; logs the CLI it found.
 */
export async function runnerProblems(
  { rendersStacks }: { rendersStacks: boolean },
  platform: NodeJS.Platform = process.platform,
  find: (tool: string) => Promise<string> = (tool) => which(tool, false),
): Promise<string[]> {
  if (platform !== 'linux') {
    return [
      `this action runs on Linux runners (runs-on: ubuntu-latest, or a self-hosted Linux runner with docker), not on ${platform}`,
    ];
  }
  const docker = await find('docker');
  if (!docker) {
    return [
      'no docker CLI on PATH: run the job on ubuntu-latest (it has docker), or install docker on the self-hosted runner',
    ];
  }
  const env = allowedEnvironment();
  const output = (args: string[]) =>
    run(docker, args, { silent: true, env }, true).then((r) => (r.exitCode === 0 ? r.stdout : ''));
  // Both at once: each is a start of the docker CLI, about 50 ms.
  const [versionText, stackConfigHelp] = await Promise.all([
    output(['version', '--format', '{{.Client.Version}}']),
    rendersStacks ? output(['stack', 'config', '--help']) : Promise.resolve(''),
  ]);
  const version = versionText.trim() || '(version unknown)';
  core.info(`docker CLI ${version} at ${docker}`);
  if (rendersStacks && !/--compose-file\b/.test(stackConfigHelp)) {
    return [
      `the docker CLI at ${docker} (${version}) has no "docker stack config", which the action reads the stack file with, as docker itself will deploy it (docker 23 and later have it): run the job on ubuntu-latest, or install docker-ce-cli 23 or later on the self-hosted runner`,
    ];
  }
  return [];
}
