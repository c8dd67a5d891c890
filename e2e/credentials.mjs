import crypto from 'node:crypto';

// The dummy AWS credentials of the sandbox. The ECR emulator accepts requests signed with these only.
//
// MODE_CREDENTIALS: one access key per mode of the action, each bound to that mode's documented IAM
// policy (docs/iam/MODE.json): e2e/run-action.mjs runs the action with its mode's key, so every
// scenario runs with exactly the permissions docs/iam.md tells users to grant.
export const MODE_CREDENTIALS = {
  deploy: { accessKeyId: 'AKIASANDBOXDEPLOY', secretAccessKey: 'sandbox/deploy/secret/access/key' },
  preview: { accessKeyId: 'AKIASANDBOXPREVIEW', secretAccessKey: 'sandbox/preview/secret/access/key' },
  teardown: { accessKeyId: 'AKIASANDBOXTEARDOWN', secretAccessKey: 'sandbox/teardown/secret/access/key' },
  promote: { accessKeyId: 'AKIASANDBOXPROMOTE', secretAccessKey: 'sandbox/promote/secret/access/key' },
};

// A key whose policy is whatever the file ECR_OVERRIDE_POLICY_FILE (in the sandbox's env) holds at the
// time of each request: for a scenario that runs the action with a policy of its own (e2e/iam.test.ts).
export const OVERRIDE_CREDENTIALS = {
  accessKeyId: 'AKIASANDBOXOVERRIDE',
  secretAccessKey: 'sandbox/override/secret/access/key',
};

// The harness's own key, unrestricted: set-up and checks that are no part of a run of the action
// (creating a repository, making its tags immutable). No scenario runs the action with it.
export const SANDBOX_ACCESS_KEY_ID = 'AKIASANDBOXEXAMPLE';
export const SANDBOX_SECRET_ACCESS_KEY = 'sandbox/secret/access/key';

/**
 * The registry password GetAuthorizationToken hands a role (a mode's, or the override's): derived from
 * the real registry password, so that the emulator's registry proxy knows whose it is.
 */
export function rolePassword(role, registryPassword) {
  return `${role}.${crypto.createHmac('sha256', registryPassword).update(role).digest('base64url')}`;
}
