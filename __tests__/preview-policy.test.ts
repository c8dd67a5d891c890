import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { parse } from 'yaml';
import { interpolate } from '../src/config/interpolate.js';
import { previewPolicyProblems, type PreviewAllowance } from '../src/config/preview-policy.js';

describe('interpolate, as the docker CLI does it', () => {
  const vars = { A: 'a', EMPTY: '', PREVIEW_PORT: '20042' };
  test.each<[string, string]>([
    ['$A ${A} $$A', 'a a $A'],
    ['${UNSET}|$UNSET|', '||'],
    ['${UNSET:-/var/run/docker.sock}', '/var/run/docker.sock'],
    ['${EMPTY:-x} ${EMPTY-x} ${UNSET-x}', 'x  x'],
    ['${A:-x} ${A-x} ${A:?gone} ${A?gone}', 'a a a a'],
    ['${PREVIEW_PORT:-80}:8000', '20042:8000'],
    // A default is not interpolated: it ends at the first }.
    ['${UNSET:-${A}}', '${A}'],
  ])('%s', (text, expected) => {
    expect(interpolate(text, vars)).toBe(expected);
  });
});

const workspace = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'policy-')));
fs.writeFileSync(path.join(workspace, 'app.env'), 'A=1\n');
fs.symlinkSync('/etc/hostname', path.join(workspace, 'escape.env'));

const none: PreviewAllowance = { bind: [], object: [], option: [], port: [] };

function check(yaml: string, allow: Partial<PreviewAllowance> = {}): string[] {
  return previewPolicyProblems(parse(yaml, { merge: true }) as Record<string, unknown>, {
    stack: 'todo-pr-42',
    port: 20042,
    dir: workspace,
    workspace,
    allow: { ...none, ...allow },
  });
}

describe('the preview policy', () => {
  test("the README's stack file, published on the preview's port, is fine", () => {
    const readme = fs
      .readFileSync('e2e/fixture/stack-readme.yml', 'utf8')
      .replace('published: 8100', 'published: 20042');
    expect(check(readme)).toEqual([]);
  });

  test.each<[string, string, string]>([
    [
      "the manager's Docker socket (short syntax)",
      'services: { app: { volumes: ["/var/run/docker.sock:/var/run/docker.sock"] } }',
      "service app mounts /var/run/docker.sock, the manager's Docker socket (allow it with bind:/var/run/docker.sock)",
    ],
    [
      'a directory holding the Docker socket',
      'services: { app: { volumes: ["/var/run:/host-run"] } }',
      "service app mounts /var/run, which holds the manager's Docker socket (allow it with bind:/var/run/docker.sock and bind:/var/run)",
    ],
    [
      'a host path (long syntax)',
      'services: { app: { volumes: [{ type: bind, source: /etc, target: /x }] } }',
      'service app mounts /etc, a path of the host (allow it with bind:/etc)',
    ],
    [
      'a host path through the local driver',
      'volumes: { data: { driver_opts: { type: none, o: bind, device: /srv/prod } } }',
      'volume data mounts /srv/prod, a path of the host (allow it with bind:/srv/prod)',
    ],
    [
      'an external secret of production',
      'secrets: { key: { external: true, name: todo_secret_key_0123 } }',
      "secret key is an external secret named todo_secret_key_0123, outside the preview's stack (allow it with object:todo_secret_key_0123)",
    ],
    [
      "production's volume by its name",
      'volumes: { data: { name: todo_db_data } }',
      "volume data is a volume named todo_db_data, outside the preview's stack (allow it with object:todo_db_data)",
    ],
    [
      'the host network',
      'networks: { hostnet: { external: true, name: host } }',
      "network hostnet is an external network named host, outside the preview's stack (allow it with object:host)",
    ],
    [
      'cap_add',
      'services: { app: { cap_add: [SYS_ADMIN] } }',
      'service app sets cap_add, which reaches past its container (allow it with option:cap_add)',
    ],
    [
      "production's port",
      'services: { app: { ports: ["80:8000", { target: 8000, published: 20042 }] } }',
      "service app publishes port 80, not the preview's own 20042 (use ${PREVIEW_PORT}, or allow it with port:N)",
    ],
    [
      'a port range',
      'services: { app: { ports: ["20040-20043:8000"] } }',
      "service app publishes port 20040, 20041, 20043, not the preview's own 20042 (use ${PREVIEW_PORT}, or allow it with port:N)",
    ],
    [
      'a runner file as a secret',
      'secrets: { key: { file: /home/runner/.docker/config.json } }',
      'secret key is read from /home/runner/.docker/config.json, which is outside the workspace',
    ],
    [
      'a file that leaves the workspace through ..',
      'configs: { c: { file: ../../etc/passwd } }',
      'config c is read from ../../etc/passwd, which is outside the workspace',
    ],
    [
      'an env_file that is a symlink out of the workspace',
      'services: { app: { env_file: [app.env, escape.env] } }',
      'service app reads env_file escape.env, which is outside the workspace',
    ],
    [
      "the checkout's credentials in .git",
      'configs: { c: { file: .git/config } }',
      'config c is read from .git/config, which is outside the workspace',
    ],
    [
      'a logging driver (it runs in the node with its credentials)',
      'services: { app: { logging: { driver: awslogs } } }',
      'service app sets logging, which reaches past its container (allow it with option:logging)',
    ],
    [
      'options hidden behind a YAML merge key',
      'x-base: &base { privileged: true }\nservices: { app: { <<: *base } }',
      'service app sets privileged, which reaches past its container (allow it with option:privileged)',
    ],
  ])('refuses %s', (_name, yaml, problem) => {
    expect(check(yaml)).toEqual([problem]);
  });

  test("the preview's own objects, named volumes, tmpfs and workspace files are fine", () => {
    expect(
      check(`
services:
  app:
    volumes: [data:/data, { type: tmpfs, target: /tmp }]
    ports: ["8000"]
    env_file: ./app.env
volumes: { data: {}, named: { name: todo-pr-42_cache } }
secrets: { key: { external: true, name: todo-pr-42_secret_key_0123abcd }, cfg: { file: app.env } }
`),
    ).toEqual([]);
  });

  test('preview-allow lets through exactly what it names', () => {
    const yaml = `
services:
  app:
    volumes: ["/srv/previews/42:/data", "/var/run/docker.sock:/var/run/docker.sock"]
    cap_add: [NET_ADMIN]
    ports: ["8443:443"]
networks: { proxy: { external: true, name: traefik-public } }
`;
    const allow = { bind: ['/srv/previews'], object: ['traefik-public'], option: ['cap_add'], port: [8443] };
    // A parent path does not let the Docker socket through: it must be named.
    expect(check(yaml, allow)).toEqual([
      "service app mounts /var/run/docker.sock, the manager's Docker socket (allow it with bind:/var/run/docker.sock)",
    ]);
    expect(check(yaml, { ...allow, bind: ['/srv/previews', '/var/run/docker.sock'] })).toEqual([]);
    expect(check(yaml, { ...allow, bind: ['/srv/prev'] })).toHaveLength(2);
  });
});
