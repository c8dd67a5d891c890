// run(), the main step, up to the first thing it would touch: bad inputs and a runner that cannot run
// the action stop it with the step failed and the problems in the job summary, nothing created.
import { beforeEach, describe, expect, jest, test } from '@jest/globals';
import { userStep } from './helpers/step.js';

const inputs: Record<string, string> = {};
const written: string[] = [];
const core = {
  getInput: jest.fn((name: string) => inputs[name] ?? ''),
  setFailed: jest.fn(),
  saveState: jest.fn(),
  warning: jest.fn(),
  summary: {
    addRaw: (markdown: string) => ({ write: async () => void written.push(markdown) }),
  },
};
const runnerProblems = jest.fn<(needs: { rendersStacks: boolean }) => Promise<string[]>>(async () => []);
const createWorkDir = jest.fn(() => {
  throw new Error('nothing may be created');
});
jest.unstable_mockModule('@actions/core', () => core);
jest.unstable_mockModule('@actions/github', () => ({
  context: { payload: {}, repo: {} },
  getOctokit: jest.fn(),
}));
jest.unstable_mockModule('../src/runner/preflight.js', () => ({ runnerProblems }));
jest.unstable_mockModule('../src/runner/workdir.js', () => ({ createWorkDir, removeWorkDir: jest.fn() }));
const { run } = await import('../src/main.js');

beforeEach(() => {
  for (const k of Object.keys(inputs)) delete inputs[k];
  written.length = 0;
  core.setFailed.mockClear();
  runnerProblems.mockClear();
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
