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
export function readTestArgs(inputs: Inputs): string[] {
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
