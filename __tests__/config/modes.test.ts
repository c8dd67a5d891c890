// The mode table against the Config each mode reads: the type guards the rest of the action narrows a
// Config with must say what that mode's Config really holds.
import { describe, expect, test } from '@jest/globals';
import {
  deploysPullRequest,
  forPullRequest,
  MODE_NAMES,
  MODES,
  rollsOut,
  type Config,
  type Mode,
} from '../../src/config/index.js';
import { modesThat } from '../../src/config/modes.js';
import { configStep, SHA } from '../helpers/config.js';

const step = configStep('modes-');
const pullRequest = { pull_request: { number: 7, head: { sha: SHA } } };
/** What each mode needs besides the step's inputs. */
const given: Record<Mode, Record<string, string>> = {
  deploy: {},
  preview: { 'app-url': 'http://lb.example.com:{port}' },
  teardown: {},
  promote: { 'release-tag': 'v1.2.3' },
};

describe('MODES', () => {
  test.each(MODE_NAMES)("%s: the traits match the mode's Config", (mode) => {
    const config: Config = step.read({ mode, ...given[mode] }, { GITHUB_SHA: SHA }, pullRequest);
    expect(config.mode).toBe(mode);
    expect(rollsOut(config)).toBe('stackFiles' in config);
    expect(forPullRequest(config)).toBe('preview' in config);
    expect(deploysPullRequest(config)).toBe('allow' in config);
    expect('sourceTag' in config).toBe(MODES[mode].releases);
    expect('build' in config && config.build).toBe(MODES[mode].builds);
  });

  test('the modes that have a trait, and those that lack it', () => {
    expect(modesThat('builds')).toEqual(['deploy', 'preview']);
    expect(modesThat('rollsOut', false)).toEqual(['teardown']);
    expect(modesThat('recordsOutcome')).toEqual(['deploy']);
  });
});
