// Generated from action.yml by scripts/docs.mjs (npm run docs): edit action.yml, not this file.

/**
 * action.yml's defaults. The runner sets every one of them as an input, so no rule may take an input
 * that has a default for one the user gave; the code falls back to them only when a user passes an
 * empty value. github-token's default is an expression the runner evaluates: it is not here.
 */
export const INPUT_DEFAULTS: Readonly<Record<string, string>> = {
  mode: 'deploy',
  'tag-format': 'short',
  build: 'true',
  context: '.',
  cache: 'true',
  'ssh-port': '22',
  'ssh-user': 'docker',
  'ssh-jump-port': '22',
  'ssh-reconnect-timeout': '60',
  'remote-docker-socket': '/var/run/docker.sock',
  'stack-file': 'stack.yml',
  'version-variable': 'APP_VERSION',
  'one-shot-services': 'migrate',
  'one-shots-first': 'false',
  'one-shot-timeout': '600',
  'converge-timeout': '300',
  acceptance: 'true',
  'acceptance-command': 'bats /app/src/acceptance.bats',
  'acceptance-timeout': '600',
  'lock-timeout': '600',
  prune: 'false',
  'rollback-on-failure': 'false',
  'preview-port-base': '20000',
  'promote-wait': '1800',
  'promote-untested': 'false',
  'delete-images': 'false',
};
