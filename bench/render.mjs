// What rendering the stack with docker costs a run: the action's start to its first phase (the
// up-front check renders the stack before it), and the "Stack file" phase (the render once ECR has
// named the registry), against the bundle before the stack was rendered (BENCH_BASE, a commit),
// alternating in the same run. Each run is stopped once its build starts: nothing is deployed.
//
// node bench/render.mjs   (root; the sandbox up). BENCH_ROUNDS=N (default 10), BENCH_BASE=COMMIT
// (default 9526463, the last bundle that read the stack file itself).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fixtureInputs, runAction, sandbox, ROOT } from '../e2e/run-action.mjs';

const sb = sandbox();
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const BASE = process.env.BENCH_BASE ?? '9526463';
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const randomSha = () => [...Array(40)].map(() => Math.floor(Math.random() * 16).toString(16)).join('');

// The earlier bundle, as its commit has it (dist/ is committed).
const before = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-render-'));
for (const file of ['index.js', 'package.json'])
  fs.writeFileSync(
    path.join(before, file),
    execFileSync('git', ['-C', ROOT, 'show', `${BASE}:dist/${file}`], { maxBuffer: 64 << 20 }),
  );
const bundles = { before: path.join(before, 'index.js'), after: path.join(ROOT, 'dist/index.js') };

async function measure(main) {
  const r = await runAction({
    main,
    inputs: fixtureInputs(sb),
    sha: randomSha(),
    killAfter: '::group::Build and push',
    killSignal: 'SIGTERM',
  });
  const at = (text) => r.lines.find((l) => l.text.startsWith(text))?.at;
  // The job summary's phase table: | Stack file | ✅ ok | +0.3 s | 0.1 s |
  const stackFile = /^\| Stack file \| .* \| ([\d.]+) s \|$/m.exec(r.summary)?.[1];
  return {
    firstPhase: at('::group::ECR login') - r.startedAt,
    stackFile: stackFile === undefined ? 0 : Number(stackFile) * 1000,
  };
}

const results = { before: [], after: [] };
for (let round = 1; round <= ROUNDS; round++) {
  for (const [name, main] of round % 2 ? Object.entries(bundles) : Object.entries(bundles).reverse())
    results[name].push(await measure(main));
  console.log(
    `round ${round}: first phase ${results.before.at(-1).firstPhase} ms before, ${results.after.at(-1).firstPhase} ms after; Stack file phase ${results.after.at(-1).stackFile} ms`,
  );
}
const first = (name) => median(results[name].map((r) => r.firstPhase));
console.log(
  `start to first phase: median ${first('before')} ms before (${BASE}), ${first('after')} ms after: +${first('after') - first('before')} ms (${(first('after') / first('before')).toFixed(2)}x)`,
);
console.log(
  `"Stack file" phase (the render with the registry's name): median ${median(results.after.map((r) => r.stackFile))} ms`,
);
fs.rmSync(before, { recursive: true, force: true });
