/** The layers of src/ (npm run lint:deps): who may import whom. Type-only imports are not counted. */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'modes-on-top',
      comment: 'Only the entry points use a mode: nothing below the modes imports one.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(modes/|main\\.ts$)' },
      to: { path: '^src/modes/' },
    },
    {
      name: 'report-does-no-io',
      comment: 'Reporting renders and decides: it reaches no external system of the action.',
      severity: 'error',
      from: { path: '^src/report/' },
      to: { path: '^src/(swarm|ssh|registry|github|runner|modes)/' },
    },
    {
      name: 'config-does-no-io',
      comment: 'Reading the inputs touches nothing (the host key parser is pure).',
      severity: 'error',
      from: { path: '^src/config/' },
      to: { path: '^src/(swarm|registry|github|runner|report|modes)/|^src/ssh/(?!hostkey\\.ts$)' },
    },
    {
      name: 'stack-asks-docker-only',
      comment: "The stack's reading and checks ask docker (the runner's CLI) and nothing else.",
      severity: 'error',
      from: { path: '^src/stack/' },
      to: { path: '^src/(swarm|ssh|registry|github|report|modes)/' },
    },
    {
      name: 'systems-apart',
      comment: 'One folder per external system: they meet in the modes, not in each other.',
      severity: 'error',
      from: { path: '^src/(swarm|ssh|registry|github)/' },
      to: { path: '^src/(swarm|ssh|registry|github)/', pathNot: '^src/$1/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: false,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
