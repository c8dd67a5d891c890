// run(), the main step: bad inputs and a runner that cannot run the action stop it with the step failed
// and the problems in the job summary, nothing created; a run that started ends the same way whether
// its mode passed, failed or was cancelled by a signal (endRun).
import { beforeEach, describe, expect, jest, test } from '@jest/globals';
import type { Run } from '../src/modes/session.js';
import { userStep } from './helpers/step.js';

const inputs: Record<string, string> = {};
const written: string[] = [];
const outputs: Record<string, string> = {};
const core = {
  getInput: jest.fn((name: string) => inputs[name] ?? ''),
  setFailed: jest.fn(),
  saveState: jest.fn(),
  setSecret: jest.fn(),
  setOutput: jest.fn((name: string, value: string) => void (outputs[name] = value)),
  info: jest.fn(),
  error: jest.fn(),
  warning: jest.fn(),
  summary: {
    addRaw: (markdown: string) => ({ write: async () => void written.push(markdown) }),
  },
};
const runnerProblems = jest.fn<(needs: { rendersStacks: boolean }) => Promise<string[]>>(async () => []);
const createWorkDir = jest.fn((): { root: string; dockerConfig: string; tunnel: string } => {
  throw new Error('nothing may be created');
});
const removeWorkDir = jest.fn();
const teardown = jest.fn<(config: unknown, run: Run) => Promise<void>>();
jest.unstable_mockModule('@actions/core', () => core);
jest.unstable_mockModule('@actions/github', () => ({
  context: { payload: {}, repo: {} },
  getOctokit: jest.fn(),
}));
jest.unstable_mockModule('../src/runner/preflight.js', () => ({ runnerProblems }));
jest.unstable_mockModule('../src/runner/workdir.js', () => ({ createWorkDir, removeWorkDir }));
jest.unstable_mockModule('../src/modes/teardown.js', () => ({ teardown }));
const { run } = await import('../src/main.js');

beforeEach(() => {
  for (const k of Object.keys(inputs)) delete inputs[k];
  for (const k of Object.keys(outputs)) delete outputs[k];
  written.length = 0;
  core.setFailed.mockClear();
  runnerProblems.mockClear();
  removeWorkDir.mockClear();
  teardown.mockReset();
});

describe('run', () => {
  test('bad inputs: every problem in the failure and the summary; the runner is not even checked', async () => {
    Object.assign(inputs, { mode: 'sideways' });
    await run();
    expect(core.setFailed).toHaveBeenCalledTimes(1);
    const failure = core.setFailed.mock.calls[0][0] as string;
    expect(failure).toContain('mode must be one of deploy, preview, teardown, promote, not "sideways"');
    expect(failure).toContain('ecr-repository');
    expect(written).toHaveLength(1);
    expect(written[0]).toContain('mode must be one of deploy, preview, teardown, promote');
    expect(runnerProblems).not.toHaveBeenCalled();
    expect(createWorkDir).not.toHaveBeenCalled();
    expect(core.saveState).toHaveBeenCalledWith('isPost', 'true');
  });

  test('a runner that cannot run the action: its problems, before anything is created', async () => {
    const step = userStep('main-', { dockerfile: false });
    Object.assign(inputs, step.inputs, { mode: 'teardown', 'pr-number': '9', 'stack-name': 'todo' });
    runnerProblems.mockResolvedValueOnce(['docker: not found on PATH']);
    await run();
    expect(runnerProblems).toHaveBeenCalledWith({ rendersStacks: false });
    expect(core.setFailed).toHaveBeenCalledWith('docker: not found on PATH');
    expect(written).toHaveLength(1);
    expect(written[0]).toContain('The runner cannot run this action');
    expect(written[0]).toContain('docker: not found on PATH');
    expect(createWorkDir).not.toHaveBeenCalled();
  });
});

describe('the end of a run', () => {
  const WORK = { root: '/tmp/ecr-swarm-deploy-main-test', dockerConfig: '/tmp/d', tunnel: '/tmp/t' };
  /** A teardown of pull request 9 (no stack to render), its mode's steps given. */
  function startTeardown(steps: (run: Run) => Promise<void>) {
    const step = userStep('main-', { dockerfile: false });
    Object.assign(inputs, step.inputs, { mode: 'teardown', 'pr-number': '9', 'stack-name': 'todo' });
    createWorkDir.mockImplementationOnce(() => WORK);
    teardown.mockImplementationOnce((_config, run) => steps(run));
  }
  /** A lock and a tunnel for the run to hold, and the check that the run's end gave each back once. */
  const holding = (release = jest.fn(async (): Promise<void> => undefined)) => {
    const close = jest.fn();
    return {
      hold: (run: Run) => Object.assign(run.held, { lock: { release }, tunnel: Promise.resolve({ close }) }),
      /** One summary saying what, the lock released, the tunnel closed, the credentials removed, the outputs. */
      expectEnded(said: string) {
        expect(written).toHaveLength(1);
        expect(written[0]).toContain(said);
        expect(release).toHaveBeenCalledTimes(1);
        expect(close).toHaveBeenCalledTimes(1);
        expect(removeWorkDir).toHaveBeenCalledWith(WORK.root);
        expect(outputs['one-shots']).toBe('{}');
      },
    };
  };

  test('passed: the summary, the lock released, the tunnel closed, the credentials removed, the outputs', async () => {
    const { hold, expectEnded } = holding();
    startTeardown(async (run) => void hold(run));
    await run();
    expect(core.setFailed).not.toHaveBeenCalled();
    expectEnded('Tore down todo');
  });

  test('failed: the same end, the failure in the step and the summary', async () => {
    const { hold, expectEnded } = holding();
    startTeardown(async (run) => {
      hold(run);
      throw new Error('the manager went away');
    });
    await run();
    expect(core.setFailed).toHaveBeenCalledWith('the manager went away');
    expectEnded('the manager went away');
  });

  test.each([
    ['a release that answers', jest.fn(async (): Promise<void> => undefined)],
    // The manager out of reach: the release would wait up to ssh-reconnect-timeout.
    ['a release that never answers, given 5 s', jest.fn(() => new Promise<void>(() => undefined))],
  ])(
    'cancelled by a signal, %s: the same end once, said to be cancelled, then the step exits 1',
    async (_, release) => {
      const { hold, expectEnded } = holding(release);
      let started!: () => void;
      const running = new Promise<void>((resolve) => (started = resolve));
      startTeardown((run) => {
        hold(run);
        started();
        return new Promise(() => undefined);
      });
      let exited!: (code: unknown) => void;
      const exit = new Promise((resolve) => (exited = resolve));
      const exitSpy = jest
        .spyOn(process, 'exit')
        .mockImplementation(((code: unknown) => exited(code)) as never);
      try {
        void run();
        await running;
        process.emit('SIGTERM', 'SIGTERM');
        expect(await exit).toBe(1);
      } finally {
        exitSpy.mockRestore();
      }
      expectEnded('cancelled (SIGTERM)');
    },
    15_000,
  );
});
