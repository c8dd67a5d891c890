import * as core from '@actions/core';

/** Everything the post step needs from main, saved and read under names defined once. */
const IS_POST = 'isPost';
const WORK_DIR = 'workDir';

export const isPost = (): boolean => core.getState(IS_POST) === 'true';
export const markMainStarted = (): void => core.saveState(IS_POST, 'true');

export const saveWorkDir = (dir: string): void => core.saveState(WORK_DIR, dir);
export const workDir = (): string => core.getState(WORK_DIR);
