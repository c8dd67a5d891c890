import * as core from '@actions/core';
import { rollsOut, type Config } from '../config/index.js';

/**
 * The secret values a run knows, masked in the log as soon as they are known; mask() hides them in
 * text for GitHub's API (the pull request comment), which the runner does not mask.
 */
export class Secrets {
  private readonly values = new Set<string>();

  add(...values: (string | undefined)[]): void {
    for (const value of values) {
      if (!value || this.values.has(value)) continue;
      this.values.add(value);
      core.setSecret(value);
    }
  }

  mask(text: string): string {
    // Longest first, so that a value containing another is hidden whole.
    return [...this.values]
      .sort((a, b) => b.length - a.length)
      .reduce((t, v) => t.replaceAll(v, '***'), text);
  }
}

/** Each line of a multi-line value (the log masks line by line), and the value whole. */
const withLines = (value: string, minLength = 1) => [
  ...value
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length >= minLength),
  value,
];

/**
 * Masks every secret the step holds from the start: the SSH key and passphrase, the stack and build
 * secrets, the GitHub token and the AWS credentials the step's environment carries. The registry's
 * password joins at login (see Secrets.add).
 */
export function maskSecrets(config: Config, env: NodeJS.ProcessEnv = process.env): Secrets {
  const secrets = new Secrets();
  secrets.add(...withLines(config.ssh.privateKey, 9).slice(0, -1), config.ssh.passphrase);
  if (rollsOut(config)) {
    for (const secret of [...config.stackSecrets, ...config.buildSecrets])
      secrets.add(...withLines(secret.value), Buffer.from(secret.value).toString('base64'));
  }
  secrets.add(config.githubToken, env.AWS_SECRET_ACCESS_KEY, env.AWS_SESSION_TOKEN);
  return secrets;
}
