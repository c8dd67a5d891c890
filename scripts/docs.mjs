// Regenerates the files that are copied from other files:
//   - docs/inputs.md, from action.yml (every input and output);
//   - the workflow blocks of README.md, between <!-- workflow: PATH --> and <!-- /workflow -->;
//   - src/config/input-defaults.ts, action.yml's defaults for the code.
// node scripts/docs.mjs writes them; with --check it writes nothing and exits 1 naming each file that
// differs from what it would write. --root DIR works on another checkout (the tests use a copy).
import fs from 'node:fs';
import path from 'node:path';
import { isMap, isScalar, parse, parseDocument } from 'yaml';

const INPUTS_FILE = 'docs/inputs.md';
const README = 'README.md';
const DEFAULTS_FILE = 'src/config/input-defaults.ts';
const WORKFLOW_BLOCK = /(<!-- workflow: (\S+) -->\n)[\s\S]*?(<!-- \/workflow -->)/g;

/** One line of Markdown table text: no line breaks, no cell separators, no HTML. */
function cell(text) {
  return String(text)
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\|/g, '\\|')
    .replace(/</g, '&lt;')
    .trim();
}

/** Inline code, with a fence long enough for the backticks inside. */
function code(text) {
  const runs = String(text).match(/`+/g) ?? [];
  const fence = '`'.repeat(Math.max(0, ...runs.map((r) => r.length)) + 1);
  const pad = fence.length > 1 ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** A comment before an input's key, as the group it opens: its first line, without the #. */
function groupTitle(comment) {
  const line = (comment ?? '')
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l);
  return line || undefined;
}

/** The entries of a top-level map of action.yml (inputs or outputs), in file order, with their groups. */
function entries(doc, key) {
  const map = doc.get(key, true);
  if (!isMap(map)) return [];
  return map.items.map((pair, i) => {
    const name = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    const value = pair.value?.toJSON?.() ?? {};
    // The first key's comment is the map's own, to the yaml package.
    const group = groupTitle(pair.key?.commentBefore ?? (i === 0 ? map.commentBefore : undefined));
    return { name, group, ...value };
  });
}

/** docs/inputs.md as action.yml describes the inputs and outputs. */
export function renderInputs(actionYml) {
  const doc = parseDocument(actionYml);
  const inputs = entries(doc, 'inputs');
  const outputs = entries(doc, 'outputs');
  const out = [
    '<!-- Generated from action.yml by scripts/docs.mjs (npm run docs): edit action.yml, not this file. -->',
    '',
    '# Inputs and outputs',
    '',
    'Every input of the action, as `action.yml` declares it. An input with a default arrives set even when',
    'a workflow leaves it out. Every input is checked before anything happens: a bad value stops the run',
    'with one message per problem, naming the input and what to do (see',
    '[troubleshooting](troubleshooting.md)).',
    '',
    '- [Inputs](#inputs)',
    '- [Outputs](#outputs)',
    '',
    '## Inputs',
    '',
  ];
  // Groups in file order: a comment before an input opens one; inputs before any comment have none.
  const groups = [];
  for (const input of inputs) {
    if (input.group || groups.length === 0) groups.push({ title: input.group, inputs: [] });
    groups[groups.length - 1].inputs.push(input);
  }
  for (const group of groups) {
    if (group.title) out.push(`**${cell(group.title)}**`, '');
    out.push('| Input | Required | Default |', '|---|---|---|');
    for (const i of group.inputs) {
      const def = i.default === undefined || i.default === '' ? '' : code(cell(i.default));
      out.push(`| [${code(i.name)}](#${i.name}) | ${i.required ? 'yes' : 'no'} | ${def} |`);
    }
    out.push('');
  }
  for (const i of inputs) {
    out.push(`### ${i.name}`, '');
    const facts = [`Required: ${i.required ? 'yes' : 'no'}`];
    if (i.default !== undefined && i.default !== '') facts.push(`default: ${code(cell(i.default))}`);
    out.push(`${facts.join('; ')}.`, '', cell(i.description ?? ''), '');
  }
  out.push('## Outputs', '', '| Output | Description |', '|---|---|');
  for (const o of outputs) out.push(`| ${code(o.name)} | ${cell(o.description ?? '')} |`);
  out.push('');
  return out.join('\n');
}

/** A TypeScript string literal, single-quoted as Prettier writes it. */
const tsString = (text) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/**
 * src/config/input-defaults.ts: action.yml's defaults as a table for the code. A default that is an
 * expression (github-token's) is the runner's to evaluate, and left out.
 */
export function renderInputDefaults(actionYml) {
  const inputs = parse(actionYml).inputs ?? {};
  const lines = Object.entries(inputs)
    .filter(([, spec]) => spec?.default !== undefined && !String(spec.default).includes('${{'))
    .map(([name, spec]) => {
      const key = /^[A-Za-z_$][\w$]*$/.test(name) ? name : tsString(name);
      return `  ${key}: ${tsString(String(spec.default))},`;
    });
  return [
    '// Generated from action.yml by scripts/docs.mjs (npm run docs): edit action.yml, not this file.',
    '',
    '/**',
    " * action.yml's defaults. The runner sets every one of them as an input, so no rule may take an input",
    ' * that has a default for one the user gave; the code falls back to them only when a user passes an',
    " * empty value. github-token's default is an expression the runner evaluates: it is not here.",
    ' */',
    'export const INPUT_DEFAULTS: Readonly<Record<string, string>> = {',
    ...lines,
    '};',
    '',
  ].join('\n');
}

/** README.md with each workflow block holding its file's exact content. */
export function renderWorkflowBlocks(readme, readFile) {
  return readme.replace(WORKFLOW_BLOCK, (_m, open, file, close) => {
    const text = readFile(file);
    const body = text.endsWith('\n') ? text : `${text}\n`;
    const runs = body.match(/^`{3,}/gm) ?? [];
    const fence = '`'.repeat(Math.max(3, ...runs.map((r) => r.length + 1)));
    return `${open}${fence}yaml\n${body}${fence}\n${close}`;
  });
}

/** The workflow files README.md's blocks name. */
export function workflowBlocks(readme) {
  return [...readme.matchAll(WORKFLOW_BLOCK)].map((m) => m[2]);
}

/** What each generated file should hold, by its path relative to root. */
export function expected(root) {
  const read = (file) => fs.readFileSync(path.join(root, file), 'utf8');
  return {
    [INPUTS_FILE]: renderInputs(read('action.yml')),
    [README]: renderWorkflowBlocks(read(README), read),
    [DEFAULTS_FILE]: renderInputDefaults(read('action.yml')),
  };
}

function main(args) {
  const check = args.includes('--check');
  const rootAt = args.indexOf('--root');
  const root = rootAt >= 0 ? path.resolve(args[rootAt + 1]) : process.cwd();
  const stale = [];
  for (const [file, text] of Object.entries(expected(root))) {
    const at = path.join(root, file);
    const current = fs.existsSync(at) ? fs.readFileSync(at, 'utf8') : undefined;
    if (current === text) continue;
    if (check) stale.push(file);
    else {
      fs.mkdirSync(path.dirname(at), { recursive: true });
      fs.writeFileSync(at, text);
      console.log(`wrote ${file}`);
    }
  }
  if (stale.length > 0) {
    for (const file of stale) console.error(`${file} is out of date: run npm run docs`);
    process.exit(1);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  main(process.argv.slice(2));
}
