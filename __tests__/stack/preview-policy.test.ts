// The preview policy on docker's own rendering of each stack (recorded by fixtures/stacks/record.sh):
// what a hand-written reader of the raw file missed is plain there.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { noAllowance, type PreviewAllowance } from '../../src/config/index.js';
import { previewPolicyProblems, type PreviewContext } from '../../src/stack/preview-policy.js';
import { recordedWorkspace, rendered } from '../helpers/rendered.js';

let workspace = '';
beforeAll(() => {
  workspace = recordedWorkspace();
});

const NONE = noAllowance();
const context = (allow: Partial<PreviewAllowance> = {}): PreviewContext => ({
  stack: 'todo-pr-7',
  port: 20007,
  dir: workspace,
  workspace,
  allow: { ...NONE, ...allow },
  actionSecrets: ['todo-pr-7_secret_key_0123456789ab'],
});
const problems = (name: string, allow?: Partial<PreviewAllowance>) =>
  previewPolicyProblems(rendered(name, workspace), context(allow));

const SOCKET =
  "service app mounts /var/run/docker.sock, the manager's Docker socket (allow it with bind:/var/run/docker.sock)";

describe('the preview policy reads what docker deploys', () => {
  test.each([
    ['binary-socket', 'a !!binary volume entry'],
    ['valueof-socket', 'a variable named valueOf'],
    ['unicode-variable', 'a variable named ſ (a letter to docker)'],
  ])('%s (%s): the Docker socket bind is refused', (name) => {
    expect(problems(name)).toEqual([SOCKET]);
    expect(problems(name, { bind: ['/var/run/docker.sock'] })).toEqual([]);
  });

  test("production's volume, network and secret behind !!binary names are refused, each naming its allowance", () => {
    expect(problems('hidden-objects')).toEqual([
      'service app joins network prod, which it shares with what runs outside the preview: the containers there would have the preview answer names they look up (app, tasks.app), before their own networks and the internet (allow it with option:networks.names once nothing on prod looks up a name a preview could take)',
      "network prod is an external network named todobackend_net, outside the preview's stack (allow it with network:todobackend_net)",
      "volume db is a volume named todobackend_db_data, outside the preview's stack (allow it with volume:todobackend_db_data)",
      "secret key is an external secret named todobackend_secret_key, outside the preview's stack (allow it with secret:todobackend_secret_key)",
    ]);
  });

  test("files of the runner: the action's credentials, a nested .git, an env_file and a build context outside the checkout", () => {
    expect(problems('runner-files')).toEqual([
      'service app reads env_file /tmp/runner.env, which is outside the workspace',
      'service app builds from /etc, which is outside the workspace',
      'config creds is read from /tmp/docker-config/config.json, which is outside the workspace',
      `config token is read from ${workspace}/sub/.git/config, which is in a .git folder`,
    ]);
  });

  test('an allow-list: mount kinds, network and volume drivers, options and routing labels it does not list are refused, each naming its preview-allow entry', () => {
    expect(problems('mounts-networks')).toEqual([
      "service admin adds capability SYS_ADMIN, beyond a container's default ones (allow it with option:cap_add)",
      "service admin sets label traefik.http.routers.admin.rule, which a proxy routes by, so it could claim production's host name (allow it with label:traefik.)",
      'service app mounts a npipe volume, which a preview may not (allow it with option:mount.npipe)',
      'service app mounts a cluster volume, which a preview may not (allow it with option:mount.cluster)',
      'network lan sets ipam, which a preview may not set (allow it with option:networks.ipam)',
      "network lan uses driver macvlan, and a preview's networks use overlay only (allow it with option:networks.driver)",
      'network lan sets driver_opts parent, which a preview may not set (allow it with option:networks.driver_opts)',
      "volume csi-volume uses driver rexray/ebs, and a preview's volumes use local only (allow it with option:volumes.driver)",
      'config tpl sets template_driver, which a preview may not set (allow it with option:configs.template_driver)',
    ]);
    const allowed = problems('mounts-networks', {
      option: [
        'cap_add',
        'mount.npipe',
        'mount.cluster',
        'networks.ipam',
        'networks.driver',
        'networks.driver_opts',
        'volumes.driver',
        'configs.template_driver',
      ],
      label: ['traefik.'],
    });
    expect(allowed).toEqual([]);
  });

  test("a network shared with production: joined only when allowed, and once nothing there looks up a preview's names; never with an alias", () => {
    expect(problems('shared-network')).toEqual([
      'service app sets aliases on network proxy, which it shares with what runs outside the preview, where it could answer for production (allow it with option:networks.aliases)',
      'service app joins network proxy, which it shares with what runs outside the preview: the containers there would have the preview answer names they look up (app, tasks.app), before their own networks and the internet (allow it with option:networks.names once nothing on proxy looks up a name a preview could take)',
      "network proxy is an external network named proxy, outside the preview's stack (allow it with network:proxy)",
    ]);
    expect(problems('shared-network', { network: ['proxy'] })).toEqual([
      'service app sets aliases on network proxy, which it shares with what runs outside the preview, where it could answer for production (allow it with option:networks.aliases)',
      'service app joins network proxy, which it shares with what runs outside the preview: the containers there would have the preview answer names they look up (app, tasks.app), before their own networks and the internet (allow it with option:networks.names once nothing on proxy looks up a name a preview could take)',
    ]);
    expect(problems('shared-network', { network: ['proxy'], option: ['networks.names'] })).toEqual([
      'service app sets aliases on network proxy, which it shares with what runs outside the preview, where it could answer for production (allow it with option:networks.aliases)',
    ]);
    // The stack's default network may be the shared one: a service on no network of its own joins it.
    const doc = rendered('shared-network', workspace);
    doc.networks = { default: { external: true, name: 'proxy' } };
    doc.services.app.networks = undefined;
    doc.services.app.hostname = 'tasks.api';
    expect(previewPolicyProblems(doc, context({ network: ['proxy'] }))).toEqual([
      'service app joins network default, which it shares with what runs outside the preview: the containers there would have the preview answer names they look up (app, tasks.app, tasks.api), before their own networks and the internet (allow it with option:networks.names once nothing on default looks up a name a preview could take)',
    ]);
  });

  test("the fixture's stack (own objects, its own port, an env_file in the workspace) passes", () => {
    expect(problems('fixture-stack')).toEqual([]);
  });

  test("a published port other than the preview's own is refused unless allowed", () => {
    const doc = rendered('fixture-stack', workspace);
    const ports = doc.services.app.ports as { published: number }[];
    ports[0].published = 80;
    expect(previewPolicyProblems(doc, context())).toEqual([
      "service app publishes port 80, not the preview's own 20007 (use ${PREVIEW_PORT}, or allow it with port:N)",
    ]);
    expect(previewPolicyProblems(doc, context({ port: [80] }))).toEqual([]);
  });

  test("a host path is refused unless bind: names it or a folder above it; an engine's paths only by their own", () => {
    const doc = rendered('fixture-stack', workspace);
    doc.services.app.volumes = [
      { type: 'bind', source: '/srv/data', target: '/data', read_only: true },
      { type: 'bind', source: '/run/docker/swarm/control.sock', target: '/c' },
      { type: 'bind', source: '/var/lib', target: '/l', read_only: true },
    ];
    expect(previewPolicyProblems(doc, context())).toEqual([
      'service app mounts /srv/data, a path of the host (allow it with bind:/srv/data)',
      "service app mounts /run/docker/swarm/control.sock, a path of the host's daemons, container engines or kernel, or above one (allow it with bind:/run/docker/swarm/control.sock)",
      "service app mounts /var/lib, a path of the host's daemons, container engines or kernel, or above one (allow it with bind:/var/lib/docker and bind:/var/lib/containerd and bind:/var/lib/containers and bind:/var/lib/buildkit and bind:/var/lib/kubelet and bind:/var/lib)",
    ]);
    // A folder above is enough for an ordinary path, never for an engine's (Swarm's control socket here).
    expect(previewPolicyProblems(doc, context({ bind: ['/srv', '/run', '/var'] }))).toEqual([
      "service app mounts /run/docker/swarm/control.sock, a path of the host's daemons, container engines or kernel, or above one (allow it with bind:/run/docker/swarm/control.sock)",
      "service app mounts /var/lib, a path of the host's daemons, container engines or kernel, or above one (allow it with bind:/var/lib/docker and bind:/var/lib/containerd and bind:/var/lib/containers and bind:/var/lib/buildkit and bind:/var/lib/kubelet and bind:/var/lib)",
    ]);
  });

  test('an allowed host folder is mounted read-only: a writable one could hold links a later bind follows out of it', () => {
    const doc = rendered('fixture-stack', workspace);
    doc.services.app.volumes = [{ type: 'bind', source: '/srv/previews/pr7', target: '/w' }];
    doc.volumes = { db_data: { driver_opts: { type: 'none', o: 'bind', device: '/srv/previews/db' } } };
    expect(previewPolicyProblems(doc, context({ bind: ['/srv/previews'] }))).toEqual([
      'service app mounts /srv/previews/pr7 writable: a preview could leave links there for a later bind to follow out of it (mount it read-only, or allow it with option:bind.writable)',
      'volume db_data mounts /srv/previews/db writable: a preview could leave links there for a later bind to follow out of it (mount it read-only, or allow it with option:bind.writable)',
    ]);
    doc.services.app.volumes = [{ type: 'bind', source: '/srv/previews/pr7', target: '/w', read_only: true }];
    doc.volumes = { db_data: { driver_opts: { type: 'none', o: 'bind,ro', device: '/srv/previews/db' } } };
    expect(previewPolicyProblems(doc, context({ bind: ['/srv/previews'] }))).toEqual([]);
    // A relative device is resolved on the node, from its daemon's folder.
    doc.volumes = { db_data: { driver_opts: { type: 'none', o: 'bind,ro', device: '../etc' } } };
    expect(previewPolicyProblems(doc, context({ bind: ['/srv/previews'] }))).toEqual([
      "volume db_data mounts ../etc, a relative path the node resolves from its daemon's folder (write it absolute)",
    ]);
  });

  test('a local volume that binds a host path is held to bind: entries; other driver options are refused', () => {
    const doc = rendered('fixture-stack', workspace);
    doc.volumes = { db_data: { driver_opts: { type: 'none', o: 'bind', device: '/etc' } } };
    expect(previewPolicyProblems(doc, context())).toEqual([
      "volume db_data mounts /etc, a path of the host's daemons, container engines or kernel, or above one (allow it with bind:/etc/docker and bind:/etc)",
    ]);
    doc.volumes = { db_data: { driver_opts: { type: 'nfs', o: 'addr=10.0.0.1', device: ':/export' } } };
    expect(previewPolicyProblems(doc, context())).toEqual([
      'volume db_data sets driver_opts other than a tmpfs or a bind of a host path, which a preview may not set (allow it with option:volumes.driver_opts)',
    ]);
    doc.volumes = { db_data: { driver_opts: { type: 'tmpfs', device: 'tmpfs', o: 'size=100m,uid=1000' } } };
    expect(previewPolicyProblems(doc, context())).toEqual([]);
  });

  test('a key the allow-list does not know is refused by name, and let through by option:', () => {
    const doc = rendered('fixture-stack', workspace);
    doc.services.app.privileged = true;
    doc.services.app.future_key = 'x';
    (doc.services.app.deploy as Record<string, unknown>).isolation = 'x';
    expect(previewPolicyProblems(doc, context())).toEqual([
      'service app sets privileged, which reaches past its container (allow it with option:privileged)',
      'service app sets future_key, which a preview may not set (allow it with option:future_key)',
      'service app sets deploy.isolation, which a preview may not set (allow it with option:deploy.isolation)',
    ]);
    expect(
      previewPolicyProblems(doc, context({ option: ['privileged', 'future_key', 'deploy.isolation'] })),
    ).toEqual([]);
  });

  test('Swarm templates in a mount or an object name are refused: the node would expand them into another path', () => {
    const doc = rendered('fixture-stack', workspace);
    doc.services.app.volumes = [
      { type: 'bind', source: '/srv/previews/{{index .Service.Labels "p"}}', target: '/s' },
    ];
    doc.volumes = {
      db_data: { driver_opts: { type: 'none', o: 'bind', device: '/srv/previews/{{printf "%c" 46}}' } },
    };
    expect(previewPolicyProblems(doc, context({ bind: ['/srv/previews'] }))).toEqual([
      'service app mounts /srv/previews/{{index .Service.Labels "p"}}, a template Swarm expands on the node into any path (allow it with option:templates)',
      'volume db_data has a template in its name, driver_opts or labels, which Swarm expands on the node (allow it with option:templates)',
    ]);
  });

  test('a port Swarm would pick (no published port, or 0) is refused too', () => {
    const doc = rendered('fixture-stack', workspace);
    doc.services.app.ports = [{ target: 80 }, { target: 82, published: 0, mode: 'host' }];
    expect(previewPolicyProblems(doc, context())).toEqual([
      "service app publishes port 80, 82 on a port Swarm picks, not on the preview's own 20007 (publish it on ${PREVIEW_PORT}, or allow it with option:ports.unpublished)",
    ]);
  });

  test("within a container's own bounds: default capabilities, logs on the node's disk, an open-files limit, an encrypted overlay", () => {
    const doc = rendered('fixture-stack', workspace);
    Object.assign(doc.services.app, {
      cap_drop: ['ALL'],
      cap_add: ['NET_BIND_SERVICE', 'CAP_CHOWN'],
      logging: { driver: 'json-file', options: { 'max-size': '10m' } },
      ulimits: { nofile: { soft: 1024, hard: 2048 } },
    });
    doc.networks = { net: { driver: 'overlay', driver_opts: { encrypted: '' } } };
    expect(previewPolicyProblems(doc, context())).toEqual([]);
    Object.assign(doc.services.app, {
      cap_add: ['NET_ADMIN'],
      logging: { driver: 'awslogs' },
      ulimits: { rtprio: 99, nofile: 1024 },
    });
    expect(previewPolicyProblems(doc, context())).toEqual([
      "service app adds capability NET_ADMIN, beyond a container's default ones (allow it with option:cap_add)",
      "service app logs through driver awslogs, which runs in the node's daemon with its credentials and network (allow it with option:logging)",
      'service app sets ulimit rtprio, which could starve its node (allow it with option:ulimits)',
    ]);
  });

  test("what reaches the node past the container's own bounds: logging options for the default driver, endpoint options, GPUs, a proxy's variables", () => {
    const doc = rendered('fixture-stack', workspace);
    Object.assign(doc.services.app, {
      logging: { options: { 'splunk-url': 'https://attacker.example' } },
      networks: {
        net: { driver_opts: { 'com.docker.network.endpoint.sysctls': 'net.ipv4.conf.IFNAME.forwarding=1' } },
      },
      environment: { VIRTUAL_HOST: 'todo.example.com', NVIDIA_VISIBLE_DEVICES: 'all', OTHER: 'x' },
      deploy: {
        resources: {
          reservations: { generic_resources: [{ discrete_resource_spec: { kind: 'gpu', value: 1 } }] },
        },
      },
      cap_add: [' chown '],
    });
    expect(previewPolicyProblems(doc, context())).toEqual([
      "service app logs through driver the node's default, which runs in the node's daemon with its credentials and network (allow it with option:logging)",
      "service app sets VIRTUAL_HOST, which a proxy or the node's runtime acts on (allow it with option:environment.VIRTUAL_HOST)",
      "service app sets NVIDIA_VISIBLE_DEVICES, which a proxy or the node's runtime acts on (allow it with option:environment.NVIDIA_VISIBLE_DEVICES)",
      'service app claims generic resources of its node (GPUs, disks) (allow it with option:deploy.resources.generic_resources)',
      'service app sets driver_opts on network net, which a preview may not set (allow it with option:networks.driver_opts)',
    ]);
  });

  test('a file whose name starts with two dots is in the workspace', () => {
    fs.writeFileSync(path.join(workspace, '..app.env'), 'A=1\n');
    const doc = rendered('fixture-stack', workspace);
    doc.services.app.env_file = ['..app.env'];
    expect(previewPolicyProblems(doc, context())).toEqual([]);
  });

  test('an environment name carrying a value of its own, a template Swarm expands, another GPU runtime or router', () => {
    const doc = rendered('fixture-stack', workspace);
    doc.services.app.environment = {
      'VIRTUAL_HOST=prod.example.com': null,
      NODE: '{{.Node.Hostname}}',
      AMD_VISIBLE_DEVICES: 'all',
      VIRTUAL_HOST_MULTIPORTS: 'x',
    };
    expect(previewPolicyProblems(doc, context())).toEqual([
      'service app sets an environment variable named "VIRTUAL_HOST=prod.example.com", which holds = or a space: write NAME: VALUE',
      'service app sets NODE to a template, which Swarm expands on the node (allow it with option:templates)',
      "service app sets AMD_VISIBLE_DEVICES, which a proxy or the node's runtime acts on (allow it with option:environment.AMD_VISIBLE_DEVICES)",
      "service app sets VIRTUAL_HOST_MULTIPORTS, which a proxy or the node's runtime acts on (allow it with option:environment.VIRTUAL_HOST_MULTIPORTS)",
    ]);
  });

  test('a hostname is plain ASCII and no template: DNS folds another alphabet, and the node expands a template', () => {
    const doc = rendered('fixture-stack', workspace);
    doc.services.app.hostname = 'apİ';
    doc.services.db.hostname = 'a{{""}}pp';
    doc.services.migrate.hostname = 'migrate-1.internal';
    expect(previewPolicyProblems(doc, context())).toEqual([
      'service app sets hostname "apİ": a preview\'s hostnames are letters a-z, digits, dots and dashes',
      'service db sets hostname a{{""}}pp, a template Swarm expands on the node (allow it with option:templates)',
    ]);
  });

  test('a local bind volume is read-only as the kernel reads its options (the last of ro and rw), never rbind', () => {
    const doc = rendered('fixture-stack', workspace);
    const volume = (o: string) => ({
      db_data: { driver_opts: { type: 'none', o, device: '/srv/previews/db' } },
    });
    const bind = { bind: ['/srv/previews'] };
    doc.volumes = volume('bind,ro,rw');
    expect(previewPolicyProblems(doc, context(bind))).toEqual([
      'volume db_data mounts /srv/previews/db writable: a preview could leave links there for a later bind to follow out of it (mount it read-only, or allow it with option:bind.writable)',
    ]);
    doc.volumes = volume('rw,bind,ro');
    expect(previewPolicyProblems(doc, context(bind))).toEqual([]);
    doc.volumes = volume('rbind,ro');
    expect(previewPolicyProblems(doc, context(bind))).toEqual([
      'volume db_data sets driver_opts other than a tmpfs or a bind of a host path, which a preview may not set (allow it with option:volumes.driver_opts)',
    ]);
  });

  test("a grant is for one kind of object; a secret declared with the name of one of the action's own is refused", () => {
    const doc = rendered('fixture-stack', workspace);
    doc.volumes = { proxy: { external: true, name: 'proxy' } };
    doc.secrets = { mine: { name: 'todo-pr-7_secret_key_0123456789ab', file: './app.env' } };
    expect(previewPolicyProblems(doc, context({ network: ['proxy'] }))).toEqual([
      "volume proxy is an external volume named proxy, outside the preview's stack (allow it with volume:proxy)",
      'secret mine is named todo-pr-7_secret_key_0123456789ab, a secret the action makes for the preview: declare it external: true',
    ]);
  });

  test('a granted object is used only as it is: declared by the stack it would be relabelled and removed with the preview', () => {
    const doc = rendered('fixture-stack', workspace);
    doc.secrets = { db: { name: 'prod_db_password', file: './app.env', labels: { a: 'b' } } };
    doc.configs = { nginx: { name: 'prod_nginx_conf', file: './app.env' } };
    doc.networks = { ...(doc.networks as object), shared: { name: 'proxy' } };
    const grants = { secret: ['prod_db_password'], config: ['prod_nginx_conf'], network: ['proxy'] };
    expect(previewPolicyProblems(doc, context(grants))).toEqual([
      "network shared is named proxy, outside the preview's stack: a preview uses it only as it is, declared external: true",
      "secret db is named prod_db_password, outside the preview's stack: a preview uses it only as it is, declared external: true",
      "config nginx is named prod_nginx_conf, outside the preview's stack: a preview uses it only as it is, declared external: true",
    ]);
    doc.secrets = { db: { name: 'prod_db_password', external: true } };
    doc.configs = { nginx: { name: 'prod_nginx_conf', external: true } };
    doc.networks = { ...(doc.networks as object), shared: { name: 'proxy', external: true } };
    expect(previewPolicyProblems(doc, context(grants))).toEqual([]);
  });

  test("the host's daemons' sockets under /run need a grant of their own path: a grant of /run is not enough", () => {
    const doc = rendered('fixture-stack', workspace);
    doc.services.app.volumes = [
      { type: 'bind', source: '/run/dbus/system_bus_socket', target: '/s', read_only: true },
    ];
    const bus =
      "service app mounts /run/dbus/system_bus_socket, a path of the host's daemons, container engines or kernel, or above one (allow it with bind:/run/dbus/system_bus_socket)";
    expect(previewPolicyProblems(doc, context({ bind: ['/run'] }))).toEqual([bus]);
    expect(previewPolicyProblems(doc, context({ bind: ['/run/dbus/system_bus_socket'] }))).toEqual([]);
  });

  test("the kernel's views of the host are an engine's paths: /proc/1/root is the host's /; no .. in a host path", () => {
    const doc = rendered('fixture-stack', workspace);
    doc.services.app.volumes = [
      { type: 'bind', source: '/proc/1/root/run/docker.sock', target: '/s', read_only: true },
    ];
    doc.volumes = {
      db_data: { driver_opts: { type: 'none', o: 'bind,ro', device: '/var/lock/../containerd' } },
    };
    expect(previewPolicyProblems(doc, context({ bind: ['/proc', '/var'] }))).toEqual([
      "service app mounts /proc/1/root/run/docker.sock, a path of the host's daemons, container engines or kernel, or above one (allow it with bind:/proc/1/root/run/docker.sock)",
      'volume db_data mounts /var/lock/../containerd, a path with .. in it (write it without)',
    ]);
  });

  test("a build's Dockerfile is the workspace's too; an env_file outside it names nothing of what it holds", () => {
    const doc = rendered('fixture-stack', workspace);
    doc.services.app.build = { context: '.', dockerfile: '../../../etc/passwd' };
    doc.services.db.build = { context: '.', dockerfile: 'sub/.git/config' };
    doc.services.migrate.env_file = ['/tmp/runner.env'];
    doc.services.migrate.environment = { VIRTUAL_HOST: 'from-the-runner', SECRET_NAME: '{{x}}' };
    expect(previewPolicyProblems(doc, context())).toEqual([
      'service app builds with Dockerfile ../../../etc/passwd, which is outside the workspace',
      'service db builds with Dockerfile sub/.git/config, which is in a .git folder',
      'service migrate reads env_file /tmp/runner.env, which is outside the workspace',
    ]);
  });
});
