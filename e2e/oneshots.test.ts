// The book's one-shot story: collectstatic runs beside migrate with restart_policy on-failure, its first
// tasks rejected by Swarm because its volume is not there yet (a bind mount whose source appears a few
// seconds into the deploy, standing in for the EFS mount), then retried and complete. The mount's
// source is the step's EFS_DIR, passed to the stack by a bare stack-env line.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { parse, stringify } from 'yaml';
import { expectTidy, randomSha, removeStack, repoRoot, run, sb, tasksOf } from './helpers.js';

jest.setTimeout(240_000);

const STACK = 'book';
const PORT = 8110;
const appSecret = fs.readFileSync(sb.APP_SECRET_KEY_FILE, 'utf8').trim();

/** The README's stack on its own port, plus the book's collectstatic one-shot reading a bind of ${EFS_DIR}. */
function bookStack(maxAttempts: number, delay = '1s'): string {
  const doc = parse(fs.readFileSync(`${repoRoot}/e2e/fixture/stack-readme.yml`, 'utf8')) as {
    services: Record<string, Record<string, unknown>>;
  };
  doc.services.app.ports = [{ target: 8000, published: PORT, protocol: 'tcp', mode: 'host' }];
  doc.services.collectstatic = {
    image: '${ECR_REGISTRY}/todobackend:${APP_VERSION}',
    command: ['sh', '-c', 'test -d /static && echo "collectstatic: 1 static file copied"'],
    volumes: [{ type: 'bind', source: '${EFS_DIR}', target: '/static' }],
    deploy: { restart_policy: { condition: 'on-failure', delay, max_attempts: maxAttempts } },
  };
  return stringify(doc);
}

const bookInputs = () => ({
  'ecr-repository': 'todobackend',
  'ssh-host': sb.SSH_DEFAULT_HOST,
  'ssh-private-key': fs.readFileSync(sb.SSH_KEY, 'utf8'),
  'ssh-known-hosts': fs.readFileSync(sb.SSH_DEFAULT_KNOWN_HOSTS, 'utf8'),
  'stack-name': STACK,
  'app-url': `http://${sb.APP_HOST}:${PORT}`,
  'one-shot-services': 'migrate, collectstatic',
  'stack-env': 'EFS_DIR',
});

let staticRoot = '';
beforeAll(async () => {
  staticRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'esd-static-'));
  await removeStack(STACK);
});
afterAll(async () => {
  await removeStack(STACK);
  fs.rmSync(staticRoot, { recursive: true, force: true });
});

describe('a one-shot whose tasks Swarm rejects', () => {
  test('rejected while its mount source is missing, then complete: the deploy succeeds', async () => {
    const staticDir = path.join(staticRoot, 'appears-later');
    const files = { 'stack.yml': bookStack(6), 'secret_key.txt': appSecret };
    // Without the stack-env line, EFS_DIR would deploy blank: refused before anything starts.
    const withoutStackEnv: Record<string, string> = bookInputs();
    delete withoutStackEnv['stack-env'];
    const blank = await run({
      inputs: withoutStackEnv,
      files,
      sha: randomSha(),
      env: { EFS_DIR: staticDir },
    });
    expect(blank.exitCode).toBe(1);
    expect(blank.log).toContain(
      'stack-file "stack.yml" uses ${EFS_DIR}, which the deploy does not set, so docker would deploy it blank: the step\'s environment has EFS_DIR: add a line EFS_DIR to stack-env to pass it',
    );
    expect(blank.log).not.toContain('[command]');
    // The volume appears once Swarm has rejected two tasks for want of it.
    const r = await run({
      inputs: bookInputs(),
      files,
      env: { EFS_DIR: staticDir },
      sha: randomSha(),
      onLine: (text) => {
        if (
          text.includes('book_collectstatic: pending: run 2 of 7 (1 + max_attempts 6): rejected') &&
          !fs.existsSync(staticDir)
        )
          fs.mkdirSync(staticDir);
      },
    });
    expect(r.log).toMatch(
      /book_collectstatic: pending: run 1 of 7 \(1 \+ max_attempts 6\): rejected: invalid mount config for type "bind": bind source path does not exist: \S+appears-later; Swarm retries/,
    );
    expect(r.log).toContain('book_collectstatic: pending: run 2 of 7 (1 + max_attempts 6): rejected:');
    expect(r.log).toMatch(/book_collectstatic: complete: completed with exit code 0/);
    expect(r.exitCode).toBe(0);
    const oneShots = JSON.parse(r.outputs['one-shots']);
    expect(oneShots.migrate).toMatchObject({ result: 'complete', 'max-runs': 7 });
    expect(oneShots.collectstatic).toMatchObject({ result: 'complete', 'max-runs': 7 });
    expect(oneShots.collectstatic.runs).toBeGreaterThanOrEqual(3);
    expect(r.outputs).toMatchObject({
      migrate: 'complete',
      'tests-passed-count': '7',
      'tests-failed-count': '0',
    });
    expect(r.summary).toMatch(
      new RegExp(`\\| book_collectstatic \\| complete \\| ${oneShots.collectstatic.runs} of 7 \\|`),
    );
    // Swarm really rejected those tasks, and completed the last one.
    const states = (await tasksOf(`${STACK}_collectstatic`)).map((t) => t.Status.State);
    expect(states.filter((s) => s === 'rejected').length).toBeGreaterThanOrEqual(2);
    expect(states).toContain('complete');
    expectTidy(r);
  });

  test('rejected every time: the step fails when the attempts are used up, naming the reason', async () => {
    const r = await run({
      inputs: bookInputs(),
      // Retries 5 s apart: migrate, started with it, has usually completed by the time they are used up.
      files: { 'stack.yml': bookStack(2, '5s'), 'secret_key.txt': appSecret },
      env: { EFS_DIR: path.join(staticRoot, 'never') },
      sha: randomSha(),
    });
    expect(r.exitCode).toBe(1);
    expect(r.log).toMatch(
      /::error::book_collectstatic failed after 3 runs \(1 \+ max_attempts 2\): rejected: invalid mount config for type "bind": bind source path does not exist: \S+never/,
    );
    expect(r.log).toContain('book_collectstatic: pending: run 2 of 3 (1 + max_attempts 2): rejected:');
    const oneShots = JSON.parse(r.outputs['one-shots']);
    expect(oneShots.collectstatic).toEqual({ result: 'failed', runs: 3, 'max-runs': 3 });
    // migrate keeps its meaning: the migrate service's own outcome, never collectstatic's failure
    // (complete; unfinished if it was still running on a slow machine when collectstatic failed).
    expect(['complete', 'unfinished']).toContain(oneShots.migrate.result);
    expect(r.outputs.migrate).toBe(oneShots.migrate.result);
    expect(r.log).not.toContain('::group::Acceptance tests');
    expect(r.summary).toContain('| book_collectstatic | failed | 3 of 3 |');
    expectTidy(r);
  });
});
