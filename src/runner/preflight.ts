import * as core from '@actions/core';
import { which } from '@actions/io';
import { run } from './exec.js';

/**
 * What the runner must have before anything starts: Linux (the tunnel is a Unix socket, the tests a
 * Linux container) and a docker CLI on PATH. Returns one line per problem; logs the CLI it found.
 */
export async function runnerProblems(
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
  const version = await run(docker, ['version', '--format', '{{.Client.Version}}'], { silent: true }, true);
  core.info(`docker CLI ${version.stdout.trim() || '(version unknown)'} at ${docker}`);
  return [];
}
