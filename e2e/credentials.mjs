// The dummy AWS credentials of the sandbox: the ECR emulator accepts requests signed with these only.
export const SANDBOX_ACCESS_KEY_ID = 'AKIASANDBOXEXAMPLE';
export const SANDBOX_SECRET_ACCESS_KEY = 'sandbox/secret/access/key';
