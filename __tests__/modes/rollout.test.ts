// rollOut with Swarm, the deploy file and the tests stood in for: what the deploy came to is recorded
// on its images through recordOutcome, naming the first thing that failed; one-shots-first deploys the
// one-shots alone and waits for them before the whole stack.
import { beforeEach, describe, expect, jest, test } from '@jest/globals';
import type { DeployConfig } from '../../src/config/index.js';
import type { Run } from '../../src/modes/session.js';
import { recordingRun } from '../helpers/recording-run.js';

const STACK = 'todo';
const APP = `${STACK}_app`;
const MIGRATE = `${STACK}_migrate`;

/** Resolves on the next turn of the event loop: lets a failure elsewhere happen first. */
const later = <T>(value: T) => new Promise<T>((resolve) => setImmediate(() => resolve(value)));

const recordOutcome =
  jest.fn<(config: unknown, run: unknown, deployed: unknown, failed?: string) => Promise<void>>();
const snapshotStack = jest.fn<() => Promise<Map<string, unknown>>>();
const deployStack = jest.fn<(cli: unknown, stack: string, file: string) => Promise<void>>();
const forceUnchanged = jest.fn<() => Promise<string[]>>();
const waitOneShot = jest.fn<() => Promise<unknown[]>>();
const waitConverged = jest.fn<(...args: unknown[]) => Promise<unknown[]>>();
const runAcceptance = jest.fn<() => Promise<unknown>>();
const writeDeployFile = jest.fn<(cli: unknown, stack: unknown, file: string) => Promise<void>>();

jest.unstable_mockModule('@actions/core', () => ({ info: jest.fn(), warning: jest.fn() }));
jest.unstable_mockModule('../../src/modes/outcome.js', () => ({ recordOutcome }));
jest.unstable_mockModule('../../src/modes/session.js', () => ({
  connect: async () => ({ cli: {}, engine: {} }),
  takeLock: async () => {},
  stackCli: () => ({}),
}));
jest.unstable_mockModule('../../src/stack/read.js', () => ({ writeDeployFile }));
jest.unstable_mockModule('../../src/runner/acceptance.js', () => ({
  runAcceptance,
  pullTestImage: jest.fn(),
}));
jest.unstable_mockModule('../../src/swarm/secrets.js', () => ({
  ensureSecrets: jest.fn(),
  removeSecrets: jest.fn(),
}));
jest.unstable_mockModule('../../src/swarm/stack.js', () => ({
  snapshotStack,
  deployStack,
  forceUnchanged,
  waitOneShot,
  waitConverged,
  stackServicesToWait: async () => ({ longRunning: [APP], leftover: [] }),
  describeStack: async () => [],
  rollbackStack: async () => [],
  WaitTimeout: class WaitTimeout extends Error {},
}));
const { rollOut } = await import('../../src/modes/rollout.js');

const { run: recording, phases, reset } = recordingRun(jest.fn());
const run = recording as Run & { work: { root: string } };

const config = (over: Partial<DeployConfig> = {}) =>
  ({
    mode: 'deploy',
    stackName: STACK,
    stackFiles: ['stack.yml'],
    stackSecrets: [],
    oneShotServices: ['migrate'],
    oneShotsFirst: false,
    prune: false,
    rollbackOnFailure: false,
    acceptance: true,
    appUrl: 'http://lb.example.com',
    sha: 'abc1234',
    tag: 'abc1234',
    ssh: { privateKey: 'key' },
    ...over,
  }) as DeployConfig;

const deployed = [{ repository: 'todo', digest: `sha256:${'ab'.repeat(32)}` }];
const target = {
  image: 'r/todo:abc1234',
  tunnel: Promise.resolve({}) as never,
  stack: {
    doc: { services: { app: { image: 'r/todo:abc1234' }, migrate: { image: 'r/todo:abc1234' } } },
    variables: {},
    images: [],
  },
  pins: {},
  deployed,
};

const service = (name: string) => ({ Spec: { Name: name } });
const completed = [
  { service: service(MIGRATE), verdict: { state: 'complete', detail: 'completed', attempts: {} } },
];
const failedOneShot = [
  { service: service(MIGRATE), verdict: { state: 'failed', detail: 'exited 1', attempts: {} } },
];
const converged = [{ service: service(APP), verdict: { state: 'converged', detail: 'converged' } }];
const passedTests = {
  ok: true,
  tests: [{ name: 'root answers 200', result: 'pass' }],
  passed: 1,
  failed: 0,
  skipped: 0,
};
const failedTests = {
  ok: false,
  tests: [{ name: 'root answers 200', result: 'fail' }],
  passed: 0,
  failed: 1,
  skipped: 0,
};
const failedUpdate = [{ service: service(APP), verdict: { state: 'failed', detail: 'update rolled back' } }];

beforeEach(() => {
  for (const f of [
    recordOutcome,
    snapshotStack,
    deployStack,
    forceUnchanged,
    waitOneShot,
    waitConverged,
    runAcceptance,
    writeDeployFile,
  ])
    f.mockReset();
  recordOutcome.mockResolvedValue();
  snapshotStack.mockResolvedValue(new Map([[APP, {}]]));
  deployStack.mockResolvedValue();
  forceUnchanged.mockResolvedValue([]);
  waitOneShot.mockResolvedValue(completed);
  waitConverged.mockResolvedValue(converged);
  runAcceptance.mockResolvedValue(passedTests);
  writeDeployFile.mockResolvedValue();
  reset();
  (run as { work: unknown }).work = { root: '/work' };
});

/** The outcome rollOut recorded: the deploy's images and what failed, undefined after a success. */
function recorded(): unknown[] {
  expect(recordOutcome).toHaveBeenCalledTimes(1);
  const [, , images, failed] = recordOutcome.mock.calls[0];
  expect(images).toBe(deployed);
  return [failed];
}

describe('rollOut records what the deploy came to (recordOutcome)', () => {
  test('passed: nothing failed', async () => {
    await rollOut(config(), run, target);
    expect(recorded()).toEqual([undefined]);
  });

  test('one-shots: a one-shot failed while the services converged', async () => {
    waitOneShot.mockResolvedValue(failedOneShot);
    await expect(rollOut(config(), run, target)).rejects.toThrow(`${MIGRATE} exited 1`);
    expect(recorded()).toEqual(['one-shots']);
  });

  test('rollout: a service did not converge', async () => {
    waitConverged.mockResolvedValue(failedUpdate);
    await expect(rollOut(config(), run, target)).rejects.toThrow(`${APP} update rolled back`);
    expect(recorded()).toEqual(['rollout']);
  });

  test('rollout: docker stack deploy refused the stack', async () => {
    deployStack.mockRejectedValue(new Error('docker stack deploy failed'));
    await expect(rollOut(config(), run, target)).rejects.toThrow('docker stack deploy failed');
    expect(recorded()).toEqual(['rollout']);
  });

  test('tests: the acceptance tests failed', async () => {
    runAcceptance.mockResolvedValue(failedTests);
    await expect(rollOut(config(), run, target)).rejects.toThrow('acceptance test(s) failed');
    expect(recorded()).toEqual(['tests']);
  });

  test('the first failure counts: a one-shot failing before the convergence does', async () => {
    waitOneShot.mockResolvedValue(failedOneShot);
    waitConverged.mockImplementation(() => later(failedUpdate));
    await expect(rollOut(config(), run, target)).rejects.toThrow(`${MIGRATE} exited 1`);
    expect(recorded()).toEqual(['one-shots']);
  });

  test('the first failure counts: the convergence failing before a one-shot does', async () => {
    waitOneShot.mockImplementation(() => later(failedOneShot));
    waitConverged.mockResolvedValue(failedUpdate);
    await expect(rollOut(config(), run, target)).rejects.toThrow(`${APP} update rolled back`);
    expect(recorded()).toEqual(['rollout']);
  });

  test('the first failure counts: tests that fail while an update is still converging, though the failed update is the error', async () => {
    waitConverged.mockImplementation(async (...args: unknown[]) => {
      (args[4] as { onServing: () => void }).onServing();
      return later(failedUpdate);
    });
    runAcceptance.mockResolvedValue(failedTests);
    await expect(rollOut(config(), run, target)).rejects.toThrow(`${APP} update rolled back`);
    expect(recorded()).toEqual(['tests']);
  });
});

describe('one-shots-first', () => {
  test('the one-shots deployed alone and waited for, then the whole stack, without forcing them again', async () => {
    await rollOut(config({ oneShotsFirst: true }), run, target);
    expect(phases).toEqual([
      'Stack deploy: one-shots',
      'One-shot services',
      'Stack deploy',
      'Converge',
      'Acceptance tests',
    ]);
    expect(writeDeployFile.mock.calls.map((c) => c[2])).toEqual([
      '/work/stack-one-shots.json',
      '/work/stack.json',
    ]);
    const cut = writeDeployFile.mock.calls[0][1] as { doc: { services: object } };
    expect(Object.keys(cut.doc.services)).toEqual(['migrate']);
    expect(forceUnchanged).toHaveBeenCalledTimes(1);
    expect(recorded()).toEqual([undefined]);
  });

  test('a one-shot failing first: the rollout never starts, and the failure is the one-shots', async () => {
    waitOneShot.mockResolvedValue(failedOneShot);
    await expect(rollOut(config({ oneShotsFirst: true }), run, target)).rejects.toThrow(
      `The rollout was not started (one-shots-first): ${APP} still runs the previous version`,
    );
    expect(deployStack).toHaveBeenCalledTimes(1);
    expect(phases).toEqual(['Stack deploy: one-shots', 'One-shot services']);
    expect(recorded()).toEqual(['one-shots']);
  });

  test('a first deploy (no other service runs yet): the whole stack at once', async () => {
    snapshotStack.mockResolvedValue(new Map());
    await rollOut(config({ oneShotsFirst: true }), run, target);
    expect(phases).toEqual(['Stack deploy', 'Converge', 'One-shot services', 'Acceptance tests']);
    expect(recorded()).toEqual([undefined]);
  });
});
