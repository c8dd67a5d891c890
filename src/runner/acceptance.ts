import { randomBytes } from 'node:crypto';
import { Parser, type FinalResults, type Result } from 'tap-parser';
import type { DockerCli } from './docker.js';
import { acceptanceContainerName } from '../naming.js';

export interface TestCase {
  id: number;
  name: string;
  result: 'pass' | 'fail' | 'skip' | 'todo';
  /** TAP comment lines that followed a failing test (bats prints the failing command there). */
  details: string[];
}

export interface AcceptanceReport {
  ok: boolean;
  tests: TestCase[];
  passed: number;
  failed: number;
  skipped: number;
  /** Why the run failed when no single test says so (plan not met, command exit code). */
  problem?: string;
}

/** Parses the TAP stream of the test run and judges it together with the command's exit code. */
export function judgeAcceptance(tap: string, exitCode: number): AcceptanceReport {
  const tests: TestCase[] = [];
  let final: FinalResults | undefined;
  const parser = new Parser((results) => (final = results));
  parser.on('assert', (r: Result) => {
    const result = r.todo ? 'todo' : r.skip ? 'skip' : r.ok ? 'pass' : 'fail';
    tests.push({ id: r.id, name: r.name, result, details: [] });
  });
  parser.on('comment', (line: string) => {
    const last = tests[tests.length - 1];
    if (last?.result === 'fail') last.details.push(line.replace(/^#\s?/, '').trimEnd());
  });
  parser.end(tap);
  const count = (r: TestCase['result']) => tests.filter((t) => t.result === r).length;
  const report: AcceptanceReport = {
    ok: false,
    tests,
    passed: count('pass'),
    failed: count('fail'),
    skipped: count('skip') + count('todo'),
  };
  const plan = final?.plan;
  if (tests.length === 0) {
    report.problem = `no TAP test results in the output (exit code ${exitCode}); does acceptance-command print TAP?`;
  } else if (final?.bailout) {
    report.problem = `the tests bailed out: ${final.bailout}`;
  } else if (plan && plan.end !== null && plan.end !== undefined && plan.end > 0 && tests.length < plan.end) {
    report.problem = `ran ${tests.length} of ${plan.end} planned tests`;
  } else if (report.failed === 0 && exitCode !== 0) {
    report.problem = `the test command exited with code ${exitCode}`;
  }
  report.ok = report.failed === 0 && !report.problem;
  return report;
}

/** docker run --rm -e APP_URL=url [args] image command..., on the runner's engine; TAP judged. */
export async function runAcceptance(
  docker: DockerCli,
  image: string,
  url: string,
  command: string[],
  extraArgs: string[],
  timeoutSeconds: number,
): Promise<AcceptanceReport> {
  const name = acceptanceContainerName(randomBytes(4).toString('hex'));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void docker.run(['rm', '--force', name], { silent: true }, true);
  }, timeoutSeconds * 1000);
  try {
    const result = await docker.run(
      ['run', '--rm', '--name', name, '--env', `APP_URL=${url}`, ...extraArgs, image, ...command],
      {},
      true,
    );
    const report = judgeAcceptance(result.stdout, result.exitCode);
    if (timedOut) {
      report.ok = false;
      report.problem = `the tests did not finish within acceptance-timeout (${timeoutSeconds}s)`;
    }
    return report;
  } finally {
    clearTimeout(timer);
  }
}
