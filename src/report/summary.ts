import type { AcceptanceReport } from '../runner/acceptance.js';
import { MODES, type Mode } from '../config/index.js';
import type { ServiceRow } from '../swarm/stack.js';
import type { Phase } from '../timeline.js';
import type { TeardownResult } from '../swarm/teardown.js';
import type { ConvergeVerdict, OneShotVerdict } from '../swarm/judge.js';

/**
 * A service's state in the summary: the judge's verdict on it (a one-shot's, a convergence's or a
 * rollback's), or unfinished: a one-shot still running when the wait ended early.
 */
export type ServiceState = OneShotVerdict['state'] | ConvergeVerdict['state'] | 'unfinished';

/** A service's outcome in the summary (one-shot, or long-running that failed to converge). */
export interface ServiceResult {
  service: string;
  state: ServiceState;
  detail: string;
  logs?: string;
  /** One-shots: the attempts used and, when Swarm bounds them, the most (the first run plus max_attempts). */
  attempts?: { used: number; max?: number };
}

/** One of the run's images, as deployed. */
export interface ImageResult {
  /** REGISTRY/REPOSITORY:TAG */
  reference: string;
  digest: string;
  /** The stack's services that run it. */
  services: string[];
  /** Built by this run: how long the build took, and whether it reused cached layers. */
  build?: { seconds: number; cacheReused: boolean };
}

export interface Report {
  mode: Mode;
  ok: boolean;
  commit?: string;
  /** promote: the tags the image was given. */
  promoted?: string[];
  /** promote: the record of a passed deploy it released on (see passedTag). */
  passedRecord?: string;
  /** promote: promote-untested released the images without that record. */
  untested?: boolean;
  /** deploy: the outcome recorded on the deployed images in ECR (passedTag or failedTag). */
  recorded?: string;
  teardown?: TeardownResult;
  failure?: string;
  phases: Phase[];
  stack?: string;
  image?: string;
  tag?: string;
  /** The ECR registry host. */
  registry?: string;
  digest?: string;
  /** Every image of the run, the first one (image, digest) first. */
  images?: ImageResult[];
  url?: string;
  services: ServiceRow[];
  oneShots: ServiceResult[];
  /** Services put back to their previous spec after a failure (rollback-on-failure). */
  rollback?: ServiceResult[];
  /** Long-running services that failed to converge, with their failing task's logs. */
  failedServices?: ServiceResult[];
  acceptance?: AcceptanceReport;
  /** one-shots-first: the one-shots failed, so the rest of the stack was not deployed. */
  rolloutNotStarted?: boolean;
  /** The one-shot wait ran out of time. */
  oneShotsTimedOut?: boolean;
  /** docker stack deploy ran (so the stack's state is worth showing). */
  deployed?: boolean;
  /** Services removed because the stack file no longer has them (prune). */
  pruned?: string[];
}

const ICON: Record<string, string> = {
  ok: '✅',
  failed: '❌',
  skipped: '⏭️',
  pass: '✅',
  fail: '❌',
  skip: '⏭️',
  todo: '📝',
};

function codeBlock(text: string): string {
  return '\n```text\n' + text.replace(/```/g, "'''").trimEnd() + '\n```\n';
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function describeAttempts(o: ServiceResult): string {
  if (!o.attempts) return '';
  return o.attempts.max ? `${o.attempts.used} of ${o.attempts.max}` : String(o.attempts.used);
}

/** The job summary as Markdown. */
export function renderSummary(r: Report): string {
  const out: string[] = [];
  for (const render of [
    renderHeadline,
    renderImages,
    renderPhases,
    renderOneShots,
    renderRollback,
    renderServices,
  ])
    render(r, out);
  if (r.teardown) out.push(describeTeardown(r.teardown), '');
  if (r.acceptance) out.push(renderAcceptance(r.acceptance));
  return out.join('\n');
}

/** The run's outcome, its failure if it failed, and what it deployed. */
function renderHeadline(r: Report, out: string[]): void {
  const stack = r.stack ?? 'the stack';
  const [done, failed] = MODES[r.mode].rollsOut
    ? ['✅ Deployed', 'Deploy of']
    : ['🧹 Tore down', 'Teardown of'];
  out.push(`## ${r.ok ? `${done} ${stack}` : `❌ ${failed} ${stack} failed`}`, '');
  if (r.failure) out.push(`**Failure:** ${r.failure.split('\n')[0]}`, '');
  if (r.rolloutNotStarted)
    out.push(
      '**The rollout was not started** (one-shots-first): every other service still runs its previous version.',
      '',
    );
  const facts: [string, string | undefined][] = [
    ['Image', r.image && `\`${r.image}\``],
    ['Digest', r.digest && `\`${r.digest}\``],
    ['Promoted to', r.promoted && r.promoted.map((t) => `\`${t}\``).join(', ')],
    [
      'Release check',
      r.untested
        ? '⚠️ skipped (promote-untested: true): released whatever its deploy came to'
        : r.passedRecord && `a deploy passed with this image (\`${r.passedRecord}\`)`,
    ],
    ['Outcome recorded', r.recorded && `\`${r.recorded}\` on the image in ECR`],
    ['Commit', r.commit && `\`${r.commit}\``],
    ['Stack', r.stack && `\`${r.stack}\``],
    ['URL', r.url],
  ];
  const shown = facts.filter(([, v]) => v);
  if (shown.length > 0) out.push('| | |', '|---|---|', ...shown.map(([k, v]) => `| ${k} | ${v} |`), '');
}

/** The run's images, when it has several, or built one: each image, its digest, build and services. */
function renderImages(r: Report, out: string[]): void {
  const images = r.images ?? [];
  if (images.length < 2 && !images.some((i) => i.build)) return;
  out.push('### Images', '', '| Image | Digest | Build | Services |', '|---|---|---|---|');
  for (const i of images) {
    const build = i.build
      ? `${i.build.seconds.toFixed(1)} s, ${i.build.cacheReused ? 'cache reused' : 'no cache reused'}`
      : 'not built';
    out.push(`| \`${i.reference}\` | \`${i.digest.slice(0, 19)}\` | ${build} | ${i.services.join(', ')} |`);
  }
  out.push('');
}

/** Each phase, in the order they started, and the total. */
function renderPhases(r: Report, out: string[]): void {
  out.push('### Phases', '', '| Phase | Result | Start | Duration |', '|---|---|---:|---:|');
  const phases = [...r.phases].sort((a, b) => a.started - b.started);
  for (const p of phases)
    out.push(
      `| ${p.name} | ${ICON[p.status]} ${p.status} | +${p.started.toFixed(1)} s | ${p.seconds.toFixed(1)} s |`,
    );
  const total = Math.max(0, ...r.phases.map((p) => p.started + p.seconds));
  out.push(`| **Total** | | | **${total.toFixed(1)} s** |`, '');
}

/** The one-shots with their logs, and the services that did not converge with theirs. */
function renderOneShots(r: Report, out: string[]): void {
  if (r.oneShots.length > 0) {
    out.push('### One-shot services', '', '| Service | Result | Attempts | Detail |', '|---|---|---|---|');
    for (const o of r.oneShots)
      out.push(`| ${o.service} | ${o.state} | ${describeAttempts(o)} | ${escapeCell(o.detail)} |`);
    out.push('');
    for (const o of r.oneShots.filter((x) => x.logs)) {
      out.push(
        `<details open><summary>Last log lines of ${o.service}</summary>`,
        codeBlock(o.logs!),
        '</details>',
        '',
      );
    }
  }

  for (const f of r.failedServices ?? []) {
    out.push(`### ❌ ${f.service} did not converge`, '', escapeCell(f.detail), '');
    if (f.logs) {
      out.push(
        `<details open><summary>Last log lines of ${f.service}</summary>`,
        codeBlock(f.logs),
        '</details>',
        '',
      );
    }
  }
}

/** The services a rollback put back to their previous spec, and whether each got there. */
function renderRollback(r: Report, out: string[]): void {
  if (r.rollback) {
    out.push('### ↩️ Rollback', '');
    if (r.rollback.length === 0)
      out.push('Nothing to roll back: the deploy changed no long-running service.', '');
    else {
      out.push('| Service | Result | Detail |', '|---|---|---|');
      for (const x of r.rollback)
        out.push(
          `| ${x.service} | ${x.state === 'converged' ? '✅ rolled back' : '❌ failed'} | ${escapeCell(x.detail)} |`,
        );
      out.push('');
    }
  }
}

/** The stack's services as they run at the end of the run, and the ones prune removed. */
function renderServices(r: Report, out: string[]): void {
  if (r.services.length > 0) {
    out.push('### Services', '', '| Service | Mode | Tasks | Image | Update |', '|---|---|---|---|---|');
    for (const s of r.services)
      out.push(`| ${s.name} | ${s.mode} | ${s.tasks} | \`${s.image}\` | ${s.update} |`);
    out.push('');
  }
  if (r.pruned?.length) {
    out.push(
      `Removed (prune: the stack file no longer has them): ${r.pruned.map((n) => `\`${n}\``).join(', ')}`,
      '',
    );
  }
}

function describeTeardown(t: TeardownResult): string {
  if (!t.existed && t.secrets.length === 0) return 'There was no such stack: nothing to tear down.';
  const parts = [
    ['services', t.services],
    ['networks', t.networks],
    ['volumes', t.volumes],
    ['secrets', t.secrets],
  ]
    .filter(([, names]) => names.length > 0)
    .map(([kind, names]) => `${kind} ${(names as string[]).map((n) => `\`${n}\``).join(', ')}`);
  return `Removed ${parts.join('; ')}.`;
}

const OUTPUT_TITLE = 'Last lines the test container printed (output, then errors)';
const NO_OUTPUT = 'The test container printed nothing.';

/**
 * The step's error when the tests fail: the failing tests' names, or else the problem with the test
 * container's last lines, URLs stripped of credentials (APP_URL's). The first line alone goes to the
 * pull request comment.
 */
export function describeAcceptanceFailure(a: AcceptanceReport): string {
  const failed = a.tests.filter((t) => t.result === 'fail').map((t) => t.name);
  if (failed.length > 0) return `${failed.length} acceptance test(s) failed: ${failed.join('; ')}`;
  const output = a.output ? `${OUTPUT_TITLE}:\n${withoutUrlCredentials(a.output)}` : NO_OUTPUT;
  return `acceptance tests failed: ${a.problem}\n${output}`;
}

/** The heading of the tests' section, in the job summary and in the pull request comment alike. */
const acceptanceHeading = (a: AcceptanceReport): string =>
  `### Acceptance tests: ${a.passed} passed, ${a.failed} failed${a.skipped ? `, ${a.skipped} skipped` : ''}`;

function renderAcceptance(a: AcceptanceReport): string {
  const out: string[] = [];
  out.push(acceptanceHeading(a), '');
  if (a.problem) out.push(`**${a.problem}**`, '');
  if (a.output)
    out.push(
      `<details open><summary>${OUTPUT_TITLE}</summary>`,
      codeBlock(withoutUrlCredentials(a.output)),
      '</details>',
      '',
    );
  else if (a.output === '') out.push(NO_OUTPUT, '');
  if (a.tests.length > 0) {
    out.push('| # | Test | Result |', '|---:|---|---|');
    for (const t of a.tests) out.push(`| ${t.id} | ${escapeCell(t.name)} | ${ICON[t.result]} ${t.result} |`);
    out.push('');
  }
  for (const t of a.tests.filter((x) => x.result === 'fail' && x.details.length > 0)) {
    out.push(`<details open><summary>${t.name}</summary>`, codeBlock(t.details.join('\n')), '</details>', '');
  }
  return out.join('\n');
}

/** A URL without its user name and password. */
export function withoutCredentials(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return withoutUrlCredentials(url);
  }
}

/** Text with every URL in it stripped of its user name and password. */
export function withoutUrlCredentials(text: string): string {
  return text.replace(/\/\/[^/@\s]*@/g, '//');
}

/**
 * Plain text for Markdown: what would make a tag, a link, an image, a mention, an issue reference or
 * a table cell is escaped. (Intraword underscores, dots and parentheses stay: alone they do nothing.)
 */
function asText(text: string): string {
  return text.replace(/[\\`*[\]<>#|@!~&]/g, (c) => `\\${c}`);
}

/**
 * The pull request comment for a preview: where it is, which commit, and how the tests went. It goes
 * to GitHub's API, which the runner does not mask: known secrets are masked here, URLs lose their
 * credentials, anything that came from the run (failure, test names) is escaped, and test output and
 * logs stay in the job summary.
 */
export function renderPreviewComment(r: Report, runUrl: string, mask: (text: string) => string): string {
  const text = (value: string) => asText(mask(value));
  const out: string[] = [];
  if (!MODES[r.mode].rollsOut) {
    out.push(
      r.ok
        ? `### 🧹 Preview \`${r.stack}\` was torn down`
        : `### ❌ Tearing down preview \`${r.stack}\` failed`,
      '',
      r.teardown ? describeTeardown(r.teardown) : text((r.failure ?? '').split('\n')[0]),
    );
  } else {
    const url = r.url ? text(withoutCredentials(r.url)) : undefined;
    out.push(
      r.ok ? `### ✅ Preview is up: ${url ?? r.stack}` : `### ❌ Preview deploy failed`,
      '',
      '| | |',
      '|---|---|',
      `| URL | ${url ?? '-'} |`,
      `| Commit | \`${r.commit ?? '-'}\` |`,
      `| Stack | \`${r.stack}\` |`,
      `| Image | \`${r.image ?? '-'}\` |`,
      '',
    );
    if (r.failure) out.push(`**Failure:** ${text(r.failure.split('\n')[0])}`, '');
    if (r.acceptance) out.push(renderTestTable(r.acceptance, text));
  }
  out.push('', `[Run log](${runUrl}) (details in its job summary)`);
  return out.join('\n');
}

/** The tests' names and results only, as plain text. */
function renderTestTable(a: AcceptanceReport, text: (value: string) => string): string {
  const out = [acceptanceHeading(a), ''];
  if (a.tests.length > 0) {
    out.push('| # | Test | Result |', '|---:|---|---|');
    for (const t of a.tests) out.push(`| ${t.id} | ${text(t.name)} | ${ICON[t.result]} ${t.result} |`);
  }
  return out.join('\n');
}

/** The job summary when the inputs are bad, which means nothing was done. */
export function renderInputProblems(problems: string[], title = 'Inputs need fixing'): string {
  return `## ❌ ${title}\n\nNothing was deployed.\n\n${problems.map((p) => `- ${p}`).join('\n')}\n`;
}
