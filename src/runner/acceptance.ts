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
  /** Why the run failed when no single test says so (plan not met, command exit code, timeout). */
  problem?: string;
  /** With a problem: the last lines the test container printed (its output, then its errors). */
  output?: string;
}

/** How many of the test container's last lines a problem shows. */
const OUTPUT_LINES = 20;

/** What makes a server image's container ignore acceptance-command, and the fix. */
const ENTRYPOINT_HINT =
  "if the image's ENTRYPOINT starts the app instead of running acceptance-command, set acceptance-entrypoint";

/**
 * Parses the TAP stream of the test run and judges it together with the command's exit code, or with
 * the acceptance-timeout (seconds) the run was stopped at.
 */
export function judgeAcceptance(tap: string, exitCode: number, timedOutAfter?: number): AcceptanceReport {
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
  if (timedOutAfter !== undefined) {
    report.problem = `the tests did not finish within acceptance-timeout (${timedOutAfter}s)`;
    if (tests.length === 0) report.problem += ` and printed no TAP: ${ENTRYPOINT_HINT}`;
  } else if (tests.length === 0) {
    report.problem = `no TAP test results in the output (exit code ${exitCode}): acceptance-command must print TAP (as bats does); ${ENTRYPOINT_HINT}`;
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

/** The last count lines of a command's output, then of its errors; blank lines left out. */
export function lastLines(stdout: string, stderr: string, count: number): string {
  return [stdout, stderr]
    .flatMap((text) => text.split('\n'))
    .map((line) => line.trimEnd())
    .filter(Boolean)
    .slice(-count)
    .join('\n');
}

/** acceptance-image onto the runner, with the run's registry credentials (none for a public image). */
export async function pullTestImage(docker: DockerCli, image: string): Promise<void> {
  const pulled = await docker.run(['pull', image], {}, true);
  if (pulled.exitCode !== 0)
    throw new Error(
      `acceptance-image ${image} could not be pulled: ${lastLines(pulled.stdout, pulled.stderr, 1)}; push it before this step, to the registry this run logs in to or to a public one`,
    );
}

/** The test container: its image, entrypoint (the image's own when unset), command and docker run arguments. */
export interface TestRun {
  image: string;
  url: string;
  entrypoint?: string;
  command: string[];
  args: string[];
  /** Seconds before the container is stopped. */
  timeout: number;
}

/**
 * docker run --rm -e APP_URL=url [--entrypoint E] [args] image command..., on the runner's engine;
 * TAP judged. A run no single test explains keeps the container's last lines.
 */
export async function runAcceptance(docker: DockerCli, t: TestRun): Promise<AcceptanceReport> {
  const name = acceptanceContainerName(randomBytes(4).toString('hex'));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void docker.run(['rm', '--force', name], { silent: true }, true);
  }, t.timeout * 1000);
  try {
    const entrypoint = t.entrypoint ? ['--entrypoint', t.entrypoint] : [];
    const args = ['run', '--rm', '--name', name, '--env', `APP_URL=${t.url}`, ...entrypoint, ...t.args];
    const result = await docker.run([...args, t.image, ...t.command], {}, true);
    const report = judgeAcceptance(result.stdout, result.exitCode, timedOut ? t.timeout : undefined);
    if (report.problem) report.output = lastLines(result.stdout, result.stderr, OUTPUT_LINES);
    return report;
  } finally {
    clearTimeout(timer);
  }
}
