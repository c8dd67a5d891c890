import path from 'node:path';
import { parseImageReference } from './image-inputs.js';
import { INPUT_DEFAULTS } from './input-defaults.js';
import type { Inputs } from './inputs.js';
import type { PullRequest } from './types.js';

/** The app URL with {stack}, {pr} and {port} filled in. */
function expandUrl(template: string, values: { stack: string; pr?: number; port?: number }): string {
  return template
    .replaceAll('{stack}', values.stack)
    .replaceAll('{pr}', String(values.pr ?? ''))
    .replaceAll('{port}', String(values.port ?? ''));
}

/** app-url, filled in; {pr} and {port} exist only for a preview. */
export function readAppUrl(inputs: Inputs, stackName: string, preview: PullRequest | undefined): string {
  const raw = inputs.get('app-url');
  if (!preview && /\{(pr|port)\}/.test(raw))
    inputs.problem(`app-url "${raw}" uses {pr} or {port}, which exist only in mode preview`);
  const appUrl = raw && expandUrl(raw, { stack: stackName, pr: preview?.number, port: preview?.port });
  if (appUrl && !/^https?:\/\/[^\s/]+/.test(appUrl))
    inputs.problem(`app-url "${appUrl}" must be an http:// or https:// URL`);
  return appUrl;
}

/** Whether the acceptance tests run, and how; they need an app URL. */
export function readAcceptance(inputs: Inputs, appUrl: string) {
  const acceptance = inputs.bool('acceptance');
  if (acceptance && !appUrl)
    inputs.problem('app-url is required when acceptance is on: the load balancer URL the tests run against');
  return { acceptance };
}

/**
 * acceptance-args, refusing an environment variable passed by name only (-e NAME): docker would copy
 * its value from the runner's environment into the test container.
 */
function readTestArgs(inputs: Inputs): string[] {
  const args = inputs.words('acceptance-args');
  args.forEach((arg, i) => {
    const separate = /^(?:-e|--env)$/.test(arg);
    const value = separate ? args[i + 1] : /^(?:-e|--env=)(.+)$/.exec(arg)?.[1];
    if (value !== undefined && !value.includes('=')) {
      const given = separate ? `${arg} ${value}` : arg;
      inputs.problem(`acceptance-args: "${given}" passes a variable by name; give NAME=VALUE`);
    }
  });
  return args;
}

/**
 * The test container: acceptance-image (empty: the deployed image), acceptance-entrypoint (empty: the
 * image's own), acceptance-command and acceptance-args.
 */
export function readTestContainer(inputs: Inputs) {
  const image = inputs.get('acceptance-image');
  if (image && !parseImageReference(image))
    inputs.problem(
      `acceptance-image "${image}" is not an image reference: [REGISTRY/]REPOSITORY[:TAG][@sha256:DIGEST], e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/notes-tests:abc1234 or bats/bats:1.11.0`,
    );
  const entrypoint = inputs.get('acceptance-entrypoint');
  const command = inputs.words('acceptance-command');
  if (/\s/.test(entrypoint)) {
    inputs.problem(
      `acceptance-entrypoint "${entrypoint}" must be one word, the program the test container starts (e.g. bats or /bin/sh): put its arguments in acceptance-command`,
    );
  } else if (
    entrypoint &&
    command[0] &&
    path.posix.basename(command[0]) === path.posix.basename(entrypoint)
  ) {
    const given = inputs.get('acceptance-command');
    const which =
      given === INPUT_DEFAULTS['acceptance-command']
        ? `acceptance-command's default ("${given}")`
        : `acceptance-command "${given}"`;
    inputs.problem(
      `acceptance-entrypoint "${entrypoint}" is the first word of ${which} too, so the container would run ${command[0]} ${command[0]} ...: with acceptance-entrypoint, set acceptance-command to only its arguments${command.length > 1 ? ` (${command.slice(1).join(' ')})` : ''}`,
    );
  }
  return {
    acceptanceImage: image || undefined,
    acceptanceEntrypoint: entrypoint || undefined,
    acceptanceCommand: command,
    acceptanceArgs: readTestArgs(inputs),
  };
}
