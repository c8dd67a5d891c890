import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, test } from '@jest/globals';
import { parse } from 'yaml';

const GENERATOR = path.resolve('scripts/docs.mjs');
const WORKFLOWS = ['deploy.yml', 'preview.yml', 'release.yml'];

const docFiles = (): string[] => [
  'README.md',
  ...fs
    .readdirSync('docs')
    .filter((f) => f.endsWith('.md'))
    .map((f) => path.join('docs', f)),
];

/** scripts/docs.mjs --check on a checkout: its exit code and what it printed. */
function check(root: string) {
  const r = spawnSync(process.execPath, [GENERATOR, '--check', '--root', root], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

/** Markdown without code (fenced blocks and inline spans): neither links nor headings live there. */
function withoutCode(text: string): string {
  return text.replace(/^(```+|~~~+)[^\n]*\n[\s\S]*?^\1\s*$/gm, '').replace(/(`+)[\s\S]*?\1/g, '');
}

/** GitHub's anchor for a heading: lower case, punctuation but - and _ dropped, spaces to -. */
function slug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Every anchor of a Markdown file, numbered for repeats as GitHub does (x, x-1, x-2). */
function anchors(file: string): Set<string> {
  const text = fs.readFileSync(file, 'utf8').replace(/^(```+|~~~+)[^\n]*\n[\s\S]*?^\1\s*$/gm, '');
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of text.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = slug(m[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** The relative links of a Markdown file: [text](target) outside code, not to a URL. */
function relativeLinks(file: string): string[] {
  const text = withoutCode(fs.readFileSync(file, 'utf8'));
  return [...text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
    .map((m) => m[1])
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

describe('the generated documentation', () => {
  let tmp: string | undefined;
  afterEach(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    tmp = undefined;
  });

  /** A copy of what the generator reads and writes, to change without touching the checkout. */
  function copyCheckout(): string {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'docs-test-'));
    fs.mkdirSync(path.join(tmp, 'docs'));
    fs.mkdirSync(path.join(tmp, '.github/workflows'), { recursive: true });
    const workflows = fs.readdirSync('.github/workflows').map((w) => `.github/workflows/${w}`);
    fs.mkdirSync(path.join(tmp, 'src/config'), { recursive: true });
    for (const f of [
      'action.yml',
      'README.md',
      'docs/inputs.md',
      'src/config/input-defaults.ts',
      ...workflows,
    ])
      fs.copyFileSync(f, path.join(tmp, f));
    return tmp;
  }

  test('docs/inputs.md, the README workflow blocks and input-defaults.ts are what scripts/docs.mjs writes (npm run docs)', () => {
    const r = check('.');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  test('a description changed in action.yml is drift, naming docs/inputs.md', () => {
    const root = copyCheckout();
    const file = path.join(root, 'action.yml');
    const text = fs.readFileSync(file, 'utf8');
    const changed = text.replace(/(\n {2}ssh-port:\n {4}description: )[^\n]+/, '$1The SSH port, changed.');
    expect(changed).not.toBe(text);
    fs.writeFileSync(file, changed);
    const r = check(root);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('docs/inputs.md');
    expect(r.stderr).not.toContain('README.md');
  });

  test('a default changed in action.yml is drift, naming src/config/input-defaults.ts', () => {
    const root = copyCheckout();
    const file = path.join(root, 'action.yml');
    const text = fs.readFileSync(file, 'utf8');
    const changed = text.replace(
      /(\n {2}converge-timeout:\n(?: {4}[^\n]*\n)*? {4}default: )'300'/,
      "$1'400'",
    );
    expect(changed).not.toBe(text);
    fs.writeFileSync(file, changed);
    const r = check(root);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('src/config/input-defaults.ts');
  });

  test('a workflow changed under .github/workflows is drift, naming README.md', () => {
    const root = copyCheckout();
    fs.appendFileSync(path.join(root, '.github/workflows/release.yml'), '# one more line\n');
    const r = check(root);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('README.md');
  });

  test.each(WORKFLOWS)('README shows .github/workflows/%s verbatim between its markers', (name) => {
    const readme = fs.readFileSync('README.md', 'utf8');
    const file = `.github/workflows/${name}`;
    const block = new RegExp(
      `<!-- workflow: ${file.replace(/\./g, '\\.')} -->\\n(\`{3,})yaml\\n([\\s\\S]*?)\\1\\n<!-- /workflow -->`,
    );
    const m = block.exec(readme);
    expect(m).not.toBeNull();
    expect(m![2]).toBe(fs.readFileSync(file, 'utf8'));
  });

  test('docs/inputs.md describes every input and output of action.yml', () => {
    const action = parse(fs.readFileSync('action.yml', 'utf8')) as {
      inputs: Record<string, unknown>;
      outputs: Record<string, unknown>;
    };
    const inputs = fs.readFileSync('docs/inputs.md', 'utf8');
    const headings = anchors('docs/inputs.md');
    for (const name of Object.keys(action.inputs)) {
      expect(headings).toContain(name);
      expect(inputs).toContain(`[\`${name}\`](#${name})`);
    }
    for (const name of Object.keys(action.outputs)) expect(inputs).toContain(`| \`${name}\` |`);
  });
});

describe('links in README.md and docs/', () => {
  test('slugs follow GitHub', () => {
    expect(slug("The stack file: docker reads it, the action checks docker's reading")).toBe(
      'the-stack-file-docker-reads-it-the-action-checks-dockers-reading',
    );
    expect(slug('Several managers (failover)')).toBe('several-managers-failover');
    expect(slug('aws-actions/amazon-ecr-login')).toBe('aws-actionsamazon-ecr-login');
    expect(slug('The private DOCKER_CONFIG')).toBe('the-private-docker_config');
  });

  test.each(docFiles())('%s: every relative link reaches a file, and every #anchor a heading', (file) => {
    const broken: string[] = [];
    for (const link of relativeLinks(file)) {
      const [target, anchor] = link.split('#', 2) as [string, string | undefined];
      const resolved = target ? path.normalize(path.join(path.dirname(file), decodeURI(target))) : file;
      if (!fs.existsSync(resolved)) {
        broken.push(`${link}: no file ${resolved}`);
        continue;
      }
      if (anchor !== undefined && resolved.endsWith('.md') && !anchors(resolved).has(anchor))
        broken.push(`${link}: no heading #${anchor} in ${resolved}`);
    }
    expect(broken).toEqual([]);
  });
});
