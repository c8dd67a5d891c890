import type { Run } from '../../src/modes/session.js';

/** A run whose phases are recorded by name and simply run; its local docker is the given function. */
export function recordingRun(localRun: unknown): {
  run: Run & { report: { digest?: string } };
  phases: string[];
  reset(): void;
} {
  const phases: string[] = [];
  const run = {
    local: { run: localRun },
    report: {},
    timeline: {
      phase: (name: string, fn: () => unknown) => {
        phases.push(name);
        return fn();
      },
    },
  } as unknown as Run & { report: { digest?: string } };
  const reset = () => {
    phases.length = 0;
    run.report = {} as Run['report'];
  };
  return { run, phases, reset };
}
