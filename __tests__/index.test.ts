// The entry point both steps run: main unless the runner hands main's state back to the post step.
import { afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals';

const ran: string[] = [];
const run = jest.fn(async () => {
  await Promise.resolve();
  ran.push('main finished');
});
const runPost = jest.fn(() => {
  ran.push('post');
});

beforeEach(() => {
  jest.resetModules();
  ran.length = 0;
  run.mockClear();
  runPost.mockClear();
  // A factory runs when its module is first imported: ran shows which step's modules were evaluated.
  jest.unstable_mockModule('../src/main.js', () => {
    ran.push('main loaded');
    return { run };
  });
  jest.unstable_mockModule('../src/post.js', () => {
    ran.push('post loaded');
    return { runPost };
  });
});

afterEach(() => {
  delete process.env.STATE_isPost;
});

describe('src/index.ts', () => {
  test('the main step (no state from main yet): runs main, awaited, and never loads post', async () => {
    await import('../src/index.js');
    expect(run).toHaveBeenCalledTimes(1);
    expect(runPost).not.toHaveBeenCalled();
    // Importing index resolves only once main's run has finished (a top-level await).
    expect(ran).toEqual(['main loaded', 'main finished']);
  });

  test("the post step (the runner sets STATE_isPost from main's saveState): runs post, and never loads main", async () => {
    // What the runner does with the isPost=true main wrote to GITHUB_STATE; @actions/core's getState
    // reads it back (not mocked here).
    process.env.STATE_isPost = 'true';
    await import('../src/index.js');
    expect(runPost).toHaveBeenCalledTimes(1);
    expect(run).not.toHaveBeenCalled();
    expect(ran).toEqual(['post loaded', 'post']);
  });

  test('any other state value is the main step', async () => {
    process.env.STATE_isPost = 'false';
    await import('../src/index.js');
    expect(run).toHaveBeenCalledTimes(1);
    expect(runPost).not.toHaveBeenCalled();
  });
});
