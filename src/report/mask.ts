import * as core from '@actions/core';
import type { Config } from '../config/index.js';

/** Masks every secret value in the log; returns a masker for what goes to GitHub's API, which the runner does not mask. */
export function maskSecrets(config: Config): (text: string) => string {
  const values: string[] = [];
  for (const line of config.ssh.privateKey.split(/\r?\n/))
    if (line.trim().length > 8) values.push(line.trim());
  if (config.ssh.passphrase) values.push(config.ssh.passphrase);
  if (config.mode !== 'teardown') {
    for (const secret of [...config.stackSecrets, ...config.buildSecrets]) {
      for (const line of secret.value.split(/\r?\n/)) if (line.trim()) values.push(line.trim());
      values.push(secret.value, Buffer.from(secret.value).toString('base64'));
    }
  }
  for (const value of values) core.setSecret(value);
  return (text) => values.reduce((masked, value) => masked.replaceAll(value, '***'), text);
}
