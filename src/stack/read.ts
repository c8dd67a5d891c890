import fs from 'node:fs';
import path from 'node:path';
import {
  deploysPullRequest,
  InputError,
  stackVariables,
  type Image,
  type RolloutConfig,
  type RolloutModeConfig,
} from '../config/index.js';
import { secretVariables } from '../naming.js';
import type { DockerCli } from '../runner/docker.js';
import { stackProblems } from './checks.js';
import { deployText, firstDifference } from './deploy-file.js';
import type { StackDoc } from './document.js';
import { planImages } from './image-plan.js';
import { renderStack } from './render.js';
import { unsetVariableProblems } from './variables.js';

/**
 * The stack as docker rendered it for the run, the variables it was rendered (and is deployed) with,
 * and the run's own images in it (ecr-repository's first).
 */
export interface RenderedStack {
  doc: StackDoc;
  variables: Record<string, string>;
  images: Image[];
}

/**
 * The stack files rendered by docker with the run's variables (registry: the ECR registry host) and
 * checked: the run's image, the one-shots, the names and, in a preview, the policy. Every problem is
 * thrown at once (an InputError), each naming stack-file or the input and the fix.
 */
export async function readStack(
  config: RolloutModeConfig,
  cli: DockerCli,
  registry: string,
  stepEnv: NodeJS.ProcessEnv,
): Promise<RenderedStack> {
  const secrets = secretVariables(config.stackName, config.stackSecrets, config.ssh.privateKey);
  const variables = stackVariables(config, registry, secrets);
  const preview = deploysPullRequest(config) ? { ...config.preview, allow: config.allow } : undefined;
  const runVariables = new Set(Object.keys(variables));
  const problems = unsetVariableProblems(
    config.stackFiles.map((name) => ({ name, text: fs.readFileSync(name, 'utf8') })),
    {
      runVariables,
      stepEnv,
      preview: preview !== undefined,
    },
  );
  let doc: StackDoc | undefined;
  try {
    doc = await renderStack(cli, config.stackFiles, variables, { preview: preview !== undefined });
  } catch (e) {
    problems.push((e as Error).message);
  }
  // docker resolves every file's relative paths from the first file's directory
  const dir = path.dirname(path.resolve(config.stackFiles[0]));
  let images: Image[] = [];
  if (doc) {
    const plan = planImages(doc, {
      registry,
      tag: config.tag,
      repository: config.repository,
      inputBuild: config.inputBuild,
      versionVariable: config.versionVariable,
      prebuilt: config.prebuilt !== undefined,
      previewRepositories: preview?.allow.repository,
      dir,
      files: config.stackFiles,
    });
    images = plan.images;
    problems.push(...plan.problems);
    problems.push(
      ...stackProblems(doc, {
        stackName: config.stackName,
        files: config.stackFiles,
        oneShotServices: config.oneShotServices,
        oneShotsFirst: config.oneShotsFirst,
        preview: preview && {
          stack: config.stackName,
          port: preview.port,
          dir,
          workspace: config.workspace,
          allow: preview.allow,
          actionSecrets: Object.values(secrets),
        },
      }),
    );
  }
  if (problems.length > 0 || !doc)
    throw new InputError(problems, 'problems keep the stack from being deployed');
  return { doc, variables, images };
}

/**
 * The registry's name for a check before ECR login says it: the image input's registry, else the
 * host of the account and region the run names (its own account's is unknown until then).
 */
export function registryStandIn(
  config: Pick<RolloutConfig, 'prebuilt' | 'registryId' | 'awsRegion'>,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const region = config.awsRegion ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  return (
    config.prebuilt?.registry ?? `${config.registryId ?? '000000000000'}.dkr.ecr.${region}.amazonaws.com`
  );
}

/**
 * Writes the document docker stack deploy reads (0600), then has docker read it back: a file that
 * docker would read otherwise than the document says (a value's type, a $) stops the run here, so
 * what was checked is what is deployed.
 */
export async function writeDeployFile(
  cli: DockerCli,
  stack: Pick<RenderedStack, 'doc' | 'variables'>,
  file: string,
): Promise<void> {
  fs.writeFileSync(file, deployText(stack.doc), { mode: 0o600 });
  const read = await renderStack(cli, [file], stack.variables);
  const differs = firstDifference(stack.doc, read);
  if (differs)
    throw new Error(
      `the stack written for docker stack deploy (${file}) reads back otherwise at ${differs}: nothing was deployed; please report this with the stack file`,
    );
}
