import path from 'node:path';
import type { PreviewAllowance } from '../config/index.js';
import { workspaceFileProblem } from '../config/workspace.js';
import {
  buildContext,
  isRemoteContext,
  list,
  networksOf,
  record,
  section,
  OBJECT_SECTIONS,
  type ObjectSection,
  type StackDoc,
} from './document.js';

/**
 * A preview deploys a pull request's stack on the swarm that runs production, with the rights of a
 * manager. The policy holds docker's rendering of it to an allow-list: what a service, network,
 * volume, secret or config may hold is listed below, and anything else is refused, naming the key and
 * the preview-allow entry that lets it through (see PreviewAllowance). Within the list: no host paths,
 * no objects outside the preview's namespace, no published port but the preview's own, no file of the
 * runner outside the workspace, no routing labels, nothing that would answer for production on a
 * network it shares, and no template where Swarm expands one on the node.
 */

/** Service keys that reach past the container: the host's namespaces, devices, privileges, daemon. */
const HOST_OPTIONS = new Set([
  'privileged',
  'cap_add',
  'devices',
  'network_mode',
  'pid',
  'ipc',
  'userns_mode',
  'security_opt',
  'sysctls',
  'cgroup_parent',
  'cgroupns_mode',
  'oom_score_adj',
  'credential_spec',
  'isolation',
  'logging',
  'ulimits',
]);

/** What a preview's service may hold: its container, its stack's objects, its own port. */
const SERVICE_KEYS = new Set([
  'build',
  'cap_add',
  'cap_drop',
  'command',
  'configs',
  'container_name',
  'depends_on',
  'deploy',
  'dns',
  'dns_search',
  'domainname',
  'entrypoint',
  'env_file',
  'environment',
  'expose',
  'external_links',
  'extra_hosts',
  'healthcheck',
  'hostname',
  'image',
  'init',
  'labels',
  'links',
  'logging',
  'mac_address',
  'networks',
  'ports',
  'read_only',
  'restart',
  'secrets',
  'shm_size',
  'stdin_open',
  'stop_grace_period',
  'stop_signal',
  'tmpfs',
  'tty',
  'ulimits',
  'user',
  'volumes',
  'working_dir',
]);

const DEPLOY_KEYS = new Set([
  'mode',
  'replicas',
  'labels',
  'update_config',
  'rollback_config',
  'resources',
  'restart_policy',
  'placement',
  'endpoint_mode',
]);

/** Capabilities every container has unless dropped (Docker's default set): adding them back is harmless. */
const DEFAULT_CAPABILITIES = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'NET_RAW',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);

/**
 * Environment variables (by name, or the start of their name) that a proxy routes by (nginx-proxy,
 * acme-companion, registrator) or a container runtime acts on (a GPU for the asking). A list of what
 * is known: a proxy or runtime that reads others needs its own care (see the README).
 */
const STEERING_ENVIRONMENT = [
  'VIRTUAL_',
  'LETSENCRYPT_',
  'NVIDIA_',
  'AMD_VISIBLE_DEVICES',
  'HABANA_VISIBLE_DEVICES',
  'SERVICE_NAME',
  'SERVICE_TAGS',
  'SERVICE_ID',
];

/** Logging drivers that write on the node's disk, not through the daemon's credentials or network. */
const LOCAL_LOG_DRIVERS = new Set(['json-file', 'local', 'none']);

/** A limit a container may set for itself (others, like rtprio or memlock, let it starve its node). */
const ULIMITS = new Set(['nofile']);

/** Mount types a preview may use; a bind is held to bind: entries. */
const MOUNT_TYPES = new Set(['volume', 'bind', 'tmpfs']);

/** What each top-level section's entries may hold (an overlay network, a local volume, a file). */
const OBJECT_KEYS: Record<ObjectSection, Set<string>> = {
  networks: new Set(['name', 'external', 'internal', 'attachable', 'labels', 'driver', 'driver_opts']),
  volumes: new Set(['name', 'external', 'labels', 'driver', 'driver_opts']),
  secrets: new Set(['name', 'external', 'labels', 'file']),
  configs: new Set(['name', 'external', 'labels', 'file']),
};

/** The only driver each section may name (their driver_opts: see networkOptions, volumeOptions). */
const OBJECT_DRIVERS: Partial<Record<ObjectSection, string>> = { networks: 'overlay', volumes: 'local' };

/** Label names the common swarm proxies route by: a preview could claim production's host name. */
const ROUTING_LABELS = ['traefik.', 'caddy', 'com.docker.lb.', 'com.df.'];

/** A service's options on a network it shares with what runs outside the preview: it would answer there. */
const SHARED_NETWORK_OPTIONS = ['aliases', 'ipv4_address', 'ipv6_address'];

/**
 * The host's daemons' sockets (all of /run), the container engines' state and the kernel's views: a
 * bind at, beneath or above one needs a bind: entry of its own path, an allowed folder above it is
 * not enough.
 */
const ENGINE_PATHS = [
  '/var/run/docker.sock',
  '/run/docker.sock',
  // The kernel's views of every process (/proc/1/root is the host's /) and of the devices.
  '/proc',
  '/sys',
  '/dev',
  // The host's daemons' sockets (D-Bus has systemd start units; connect() works through a read-only
  // bind): each only by a grant of its own path.
  '/run',
  '/var/run',
  ...['docker', 'containerd', 'containers', 'buildkit', 'kubelet'].map((d) => `/var/lib/${d}`),
  '/etc/docker',
];

/** Swarm expands Go templates in mounts on the node ({{.Service.Labels}}...): a checked path could become any. */
const TEMPLATE = /\{\{/;

export interface PreviewContext {
  /** The preview's stack, whose objects are STACK_NAME. */
  stack: string;
  /** PREVIEW_PORT. */
  port: number;
  /** Where docker resolved the stack's relative paths (the first stack file's directory). */
  dir: string;
  /** The checkout: the only place a preview may read files from (not its .git). */
  workspace: string;
  allow: PreviewAllowance;
  /** The Swarm names of the secrets the action makes for the preview (stack-secrets). */
  actionSecrets: string[];
}

type Doc = Record<string, unknown>;

const isExtension = (key: string) => key.startsWith('x-');
const allowed = (ctx: Pick<PreviewContext, 'allow'>, option: string) => ctx.allow.option.includes(option);
const strings = (value: unknown): string[] =>
  typeof value === 'string'
    ? [value]
    : list(value)
        .concat(Object.values(record(value)))
        .flatMap(strings);

/** What the rendered stack holds that a preview may not: one line per finding. */
export function previewPolicyProblems(doc: StackDoc, ctx: PreviewContext): string[] {
  const shared = sharedNetworks(doc, ctx);
  const problems: string[] = [];
  for (const [name, def] of Object.entries(doc.services)) problems.push(...service(name, def, ctx, shared));
  for (const kind of OBJECT_SECTIONS) {
    for (const [key, def] of Object.entries(section(doc, kind)))
      problems.push(...object(kind, key, def, ctx));
  }
  return problems;
}

function unlisted(keys: string[], listed: Set<string>, ctx: PreviewContext, option: (k: string) => string) {
  return keys.filter((k) => !listed.has(k) && !isExtension(k) && !allowed(ctx, option(k)));
}

function service(name: string, s: Doc, ctx: PreviewContext, shared: Set<string>): string[] {
  const problems = unlisted(Object.keys(s), SERVICE_KEYS, ctx, (k) => k).map((k) =>
    HOST_OPTIONS.has(k)
      ? `service ${name} sets ${k}, which reaches past its container (allow it with option:${k})`
      : `service ${name} sets ${k}, which a preview may not set (allow it with option:${k})`,
  );
  // An env_file outside the workspace put the runner's file into the environment: nothing of it is
  // named (the file problem below is the finding).
  const readsOutside = list(s.env_file).some((file) => workspaceFileProblem(String(file), ctx));
  problems.push(...containerLimits(name, readsOutside ? { ...s, environment: {} } : s, ctx));
  const deploy = record(s.deploy);
  problems.push(
    ...unlisted(Object.keys(deploy), DEPLOY_KEYS, ctx, (k) => `deploy.${k}`).map(
      (k) =>
        `service ${name} sets deploy.${k}, which a preview may not set (allow it with option:deploy.${k})`,
    ),
  );
  const gpus = record(record(record(deploy.resources).reservations)).generic_resources;
  if (gpus !== undefined && !allowed(ctx, 'deploy.resources.generic_resources'))
    problems.push(
      `service ${name} claims generic resources of its node (GPUs, disks) (allow it with option:deploy.resources.generic_resources)`,
    );
  for (const labels of [s.labels, deploy.labels]) problems.push(...routingLabels(name, record(labels), ctx));
  problems.push(...mounts(name, s, ctx), ...ports(name, s, ctx), ...networkOptions(name, s, ctx, shared));
  problems.push(...hostname(name, s, ctx));
  for (const file of list(s.env_file).map(String)) {
    const problem = workspaceFileProblem(file, ctx);
    if (problem) problems.push(`service ${name} reads env_file ${file}, ${problem}`);
  }
  problems.push(...buildFiles(name, record(s.build), ctx));
  return problems;
}

/** A build's context and Dockerfile are the workspace's: the runner reads them. */
function buildFiles(name: string, build: Doc, ctx: PreviewContext): string[] {
  if (build.context === undefined && build.dockerfile === undefined) return [];
  const context = buildContext(build);
  if (isRemoteContext(context)) return [`service ${name} builds from ${context}, not from the workspace`];
  const problems: string[] = [];
  const contextProblem = workspaceFileProblem(context, ctx);
  if (contextProblem) problems.push(`service ${name} builds from ${context}, ${contextProblem}`);
  if (typeof build.dockerfile === 'string') {
    const dockerfile = path.resolve(ctx.dir, context, build.dockerfile);
    const problem = workspaceFileProblem(dockerfile, ctx);
    if (problem) problems.push(`service ${name} builds with Dockerfile ${build.dockerfile}, ${problem}`);
  }
  return problems;
}

/**
 * The host options a preview has within a container's own bounds, unless option: allows them whole:
 * capabilities of Docker's default set, logs on the node's disk, an open-files limit.
 */
function containerLimits(name: string, s: Doc, ctx: PreviewContext): string[] {
  const problems: string[] = [];
  if (!allowed(ctx, 'cap_add'))
    for (const cap of list(s.cap_add).map((c) => String(c).trim().toUpperCase().replace(/^CAP_/, '')))
      if (!DEFAULT_CAPABILITIES.has(cap))
        problems.push(
          `service ${name} adds capability ${cap}, beyond a container's default ones (allow it with option:cap_add)`,
        );
  // Options without a driver go to the node's default driver, whatever that is.
  const logging = record(s.logging);
  const driver = logging.driver ?? (logging.options === undefined ? undefined : "the node's default");
  if (driver !== undefined && !LOCAL_LOG_DRIVERS.has(String(driver)) && !allowed(ctx, 'logging'))
    problems.push(
      `service ${name} logs through driver ${String(driver)}, which runs in the node's daemon with its credentials and network (allow it with option:logging)`,
    );
  problems.push(...environment(name, record(s.environment), ctx));
  if (!allowed(ctx, 'ulimits'))
    for (const limit of Object.keys(record(s.ulimits)).filter((l) => !ULIMITS.has(l)))
      problems.push(
        `service ${name} sets ulimit ${limit}, which could starve its node (allow it with option:ulimits)`,
      );
  return problems;
}

/**
 * A service's environment: names as the container gets them (a name holding = or a space would carry a
 * value of its own past this check), none that a proxy or the node's runtime acts on, and no template
 * (Swarm fills in the node's name and id).
 */
function environment(name: string, env: Doc, ctx: PreviewContext): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(env)) {
    if (/[=\s]/.test(key)) {
      problems.push(
        `service ${name} sets an environment variable named "${key}", which holds = or a space: write NAME: VALUE`,
      );
      continue;
    }
    const steering = STEERING_ENVIRONMENT.find((v) => (v.endsWith('_') ? key.startsWith(v) : key === v));
    if (steering && !allowed(ctx, `environment.${key}`))
      problems.push(
        `service ${name} sets ${key}, which a proxy or the node's runtime acts on (allow it with option:environment.${key})`,
      );
    if (typeof value === 'string' && TEMPLATE.test(value) && !allowed(ctx, 'templates'))
      problems.push(
        `service ${name} sets ${key} to a template, which Swarm expands on the node (allow it with option:templates)`,
      );
  }
  return problems;
}

/**
 * A hostname is a DNS name on every network of the service: plain letters, digits, dots and dashes
 * (another alphabet could fold, as DNS matches, into a name production answers to), and no template.
 */
function hostname(name: string, s: Doc, ctx: PreviewContext): string[] {
  if (s.hostname === undefined) return [];
  const value = String(s.hostname);
  if (TEMPLATE.test(value) && !allowed(ctx, 'templates'))
    return [
      `service ${name} sets hostname ${value}, a template Swarm expands on the node (allow it with option:templates)`,
    ];
  if (!/^[A-Za-z0-9.-]+$/.test(value))
    return [
      `service ${name} sets hostname "${value}": a preview's hostnames are letters a-z, digits, dots and dashes`,
    ];
  return [];
}

function routingLabels(name: string, labels: Doc, ctx: PreviewContext): string[] {
  return Object.keys(labels)
    .filter(
      (l) => ROUTING_LABELS.some((p) => l.startsWith(p)) && !ctx.allow.label.some((p) => l.startsWith(p)),
    )
    .map((l) => {
      const prefix = ROUTING_LABELS.find((p) => l.startsWith(p))!;
      return `service ${name} sets label ${l}, which a proxy routes by, so it could claim production's host name (allow it with label:${prefix})`;
    });
}

const beneath = (p: string, dir: string) => p === dir || p.startsWith(dir.endsWith('/') ? dir : `${dir}/`);

/**
 * Why a bind mount of a host path is refused, or undefined when preview-allow lets it through: a path
 * at, beneath or above an engine's socket or state needs bind: entries of its own and of those; any
 * other needs a bind: entry at or above it, and is mounted read-only unless option:bind.writable (in a
 * writable host folder a preview could leave symbolic links, which a later bind follows out of it on
 * the node). A relative path is resolved on the node, from its daemon's folder.
 */
function bindProblem(
  source: string,
  ctx: PreviewContext,
  { writable }: { writable: boolean },
): string | undefined {
  if (!path.posix.isAbsolute(source))
    return `${source}, a relative path the node resolves from its daemon's folder (write it absolute)`;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(source)) return `${JSON.stringify(source)}, a path with control characters`;
  // The node's kernel follows a symbolic link before a .. after it: /var/lock/.. is /run.
  if (source.split('/').includes('..')) return `${source}, a path with .. in it (write it without)`;
  const host = path.posix.resolve(source);
  const engine = ENGINE_PATHS.filter((e) => beneath(host, e) || beneath(e, host));
  if (engine.length > 0) {
    const needed = [...new Set([...engine.filter((e) => beneath(e, host)), host])].filter(
      (p) => !ctx.allow.bind.includes(p),
    );
    if (needed.length === 0) return undefined;
    const socket = host === '/var/run/docker.sock' || host === '/run/docker.sock';
    const what = socket
      ? "the manager's Docker socket"
      : "a path of the host's daemons, container engines or kernel, or above one";
    return `${source}, ${what} (allow it with ${needed.map((p) => `bind:${p}`).join(' and ')})`;
  }
  if (!ctx.allow.bind.some((p) => beneath(host, p)))
    return `${source}, a path of the host (allow it with bind:${host})`;
  if (writable && !allowed(ctx, 'bind.writable'))
    return `${source} writable: a preview could leave links there for a later bind to follow out of it (mount it read-only, or allow it with option:bind.writable)`;
  return undefined;
}

function mounts(name: string, s: Doc, ctx: PreviewContext): string[] {
  const problems: string[] = [];
  for (const mount of list(s.volumes).map(record)) {
    const type = String(mount.type ?? 'volume');
    if (strings(mount).some((v) => TEMPLATE.test(v)) && !allowed(ctx, 'templates')) {
      problems.push(
        `service ${name} mounts ${String(mount.source ?? mount.target)}, a template Swarm expands on the node into any path (allow it with option:templates)`,
      );
    } else if (!MOUNT_TYPES.has(type)) {
      if (!allowed(ctx, `mount.${type}`))
        problems.push(
          `service ${name} mounts a ${type} volume, which a preview may not (allow it with option:mount.${type})`,
        );
    } else if (type === 'bind') {
      const writable = mount.read_only !== true;
      const problem = bindProblem(String(mount.source ?? ''), ctx, { writable });
      if (problem) problems.push(`service ${name} mounts ${problem}`);
    }
  }
  return problems;
}

/** The ports a long-syntax entry publishes (docker's rendering writes every port long); [] for Swarm's pick. */
function publishedPorts(entry: Doc): number[] {
  const p = entry.published;
  if (p === undefined || p === '' || p === 0) return [];
  const [from, to = from] = String(p).split('-').map(Number);
  if (!Number.isInteger(from) || !Number.isInteger(to) || to < from || to - from > 65535) return [NaN];
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function ports(name: string, s: Doc, ctx: PreviewContext): string[] {
  const entries = list(s.ports).map(record);
  const problems: string[] = [];
  const picked = entries.filter((e) => publishedPorts(e).length === 0);
  if (picked.length > 0 && !allowed(ctx, 'ports.unpublished'))
    problems.push(
      `service ${name} publishes port ${picked.map((e) => String(e.target)).join(', ')} on a port Swarm picks, not on the preview's own ${ctx.port} (publish it on \${PREVIEW_PORT}, or allow it with option:ports.unpublished)`,
    );
  const foreign = entries
    .flatMap(publishedPorts)
    .filter((p) => p !== ctx.port && !ctx.allow.port.includes(p));
  if (foreign.length > 0) {
    const shown = [...new Set(foreign.map((p) => (Number.isNaN(p) ? 'one it cannot read' : String(p))))];
    problems.push(
      `service ${name} publishes port ${shown.join(', ')}, not the preview's own ${ctx.port} (use \${PREVIEW_PORT}, or allow it with port:N)`,
    );
  }
  return problems;
}

/** The stack's networks that are not the preview's own (external, or named outside its namespace). */
const sharedNetworks = (doc: StackDoc, ctx: PreviewContext) =>
  new Set(
    Object.entries(section(doc, 'networks'))
      .filter(([, def]) => isOutside(def, ctx))
      .map(([key]) => key),
  );

/**
 * A service's networks. Endpoint options reach the container's interface (sysctls). On a network it
 * shares with what runs outside the preview, every name it answers to (its key, which docker stack
 * deploy makes an alias, tasks.KEY, its hostname, anything dotted) is answered by the embedded DNS to
 * every container on that network, before their other networks and the internet: production's
 * containers there could be sent to the preview for a name they look up. So a preview joins a shared
 * network only once option:networks.names says nothing there looks up a name a preview could take; even
 * then it may set no aliases or fixed addresses.
 */
function networkOptions(name: string, s: Doc, ctx: PreviewContext, shared: Set<string>): string[] {
  const problems: string[] = [];
  for (const [network, def] of Object.entries(record(s.networks))) {
    if (record(def).driver_opts !== undefined && !allowed(ctx, 'networks.driver_opts'))
      problems.push(
        `service ${name} sets driver_opts on network ${network}, which a preview may not set (allow it with option:networks.driver_opts)`,
      );
    if (!shared.has(network)) continue;
    for (const option of SHARED_NETWORK_OPTIONS.filter((o) => record(def)[o] !== undefined)) {
      if (allowed(ctx, `networks.${option}`)) continue;
      problems.push(
        `service ${name} sets ${option} on network ${network}, which it shares with what runs outside the preview, where it could answer for production (allow it with option:networks.${option})`,
      );
    }
  }
  for (const network of networksOf(s).filter((n) => shared.has(n) && !allowed(ctx, 'networks.names')))
    problems.push(
      `service ${name} joins network ${network}, which it shares with what runs outside the preview: the containers there would have the preview answer names they look up (${name}, tasks.${name}${s.hostname === undefined ? '' : `, ${String(s.hostname)}`}), before their own networks and the internet (allow it with option:networks.names once nothing on ${network} looks up a name a preview could take)`,
    );
  return problems;
}

/**
 * An object outside the preview's namespace: external, or named (an object without a name is
 * STACK_KEY, the preview's own; the action's own secrets are named STACK_NAME_VERSION). A name that is
 * not text counts as outside.
 */
function isOutside(def: Doc, ctx: Pick<PreviewContext, 'stack'>): boolean {
  if (def.external !== true && def.name === undefined) return false;
  return !(typeof def.name === 'string' && def.name.startsWith(`${ctx.stack}_`));
}

function object(kind: ObjectSection, key: string, def: Doc, ctx: PreviewContext): string[] {
  const singular = kind.slice(0, -1);
  const problems = unlisted(Object.keys(def), OBJECT_KEYS[kind], ctx, (k) => `${kind}.${k}`).map(
    (k) => `${singular} ${key} sets ${k}, which a preview may not set (allow it with option:${kind}.${k})`,
  );
  const driver = def.driver;
  const only = OBJECT_DRIVERS[kind];
  if (only && driver !== undefined && driver !== only && !allowed(ctx, `${kind}.driver`))
    problems.push(
      `${singular} ${key} uses driver ${String(driver)}, and a preview's ${kind} use ${only} only (allow it with option:${kind}.driver)`,
    );
  if (
    strings([def.name, def.driver_opts, def.labels]).some((v) => TEMPLATE.test(v)) &&
    !allowed(ctx, 'templates')
  )
    problems.push(
      `${singular} ${key} has a template in its name, driver_opts or labels, which Swarm expands on the node (allow it with option:templates)`,
    );
  else if (kind === 'networks') problems.push(...networkDriverOptions(key, record(def.driver_opts), ctx));
  else if (kind === 'volumes') problems.push(...volumeOptions(key, record(def.driver_opts), ctx));
  if (typeof def.file === 'string') {
    const problem = workspaceFileProblem(def.file, ctx);
    if (problem) problems.push(`${singular} ${key} is read from ${def.file}, ${problem}`);
  }
  const swarmName = typeof def.name === 'string' ? def.name : key;
  const granted = ctx.allow[singular as 'network' | 'volume' | 'secret' | 'config'];
  if (isOutside(def, ctx) && !granted.includes(swarmName)) {
    const how = def.external === true ? 'an external' : 'a';
    problems.push(
      `${singular} ${key} is ${how} ${singular} named ${swarmName}, outside the preview's stack (allow it with ${singular}:${swarmName})`,
    );
  } else if (isOutside(def, ctx) && def.external !== true)
    // Declared by the stack, an existing object of that name is the stack's: the deploy replaces its
    // labels, and removing the preview removes it.
    problems.push(
      `${singular} ${key} is named ${swarmName}, outside the preview's stack: a preview uses it only as it is, declared external: true`,
    );
  // The action's own secrets are the preview's, but declared by the stack they would be updated by it.
  if (
    kind === 'secrets' &&
    def.external !== true &&
    typeof def.name === 'string' &&
    ctx.actionSecrets.includes(def.name)
  )
    problems.push(
      `${singular} ${key} is named ${def.name}, a secret the action makes for the preview: declare it external: true`,
    );
  return problems;
}

/** An overlay network's options: encryption only. */
function networkDriverOptions(key: string, opts: Doc, ctx: PreviewContext): string[] {
  const other = Object.keys(opts).filter((o) => o !== 'encrypted');
  if (other.length === 0 || allowed(ctx, 'networks.driver_opts')) return [];
  return [
    `network ${key} sets driver_opts ${other.join(', ')}, which a preview may not set (allow it with option:networks.driver_opts)`,
  ];
}

/**
 * The local driver's options: a tmpfs, or a bind of a host path (type none, o bind, device PATH), held
 * to bind: entries like a service's bind mount.
 */
function volumeOptions(key: string, opts: Doc, ctx: PreviewContext): string[] {
  if (Object.keys(opts).length === 0 || allowed(ctx, 'volumes.driver_opts')) return [];
  const { device, type, o, ...rest } = opts;
  const flags = String(o ?? '').split(',');
  const tmpfs =
    type === 'tmpfs' &&
    device === 'tmpfs' &&
    flags.every((f) => f === '' || /^(size|mode|uid|gid|nr_inodes)=[\w.]+$/.test(f));
  // Only bind (rbind would bring the mounts beneath it, writable or not), and ro/rw as the kernel reads
  // them: the last one decides.
  const bind = type === 'none' && flags.includes('bind') && flags.every((f) => /^(bind|ro|rw)$/.test(f));
  const readOnly = flags.filter((f) => f === 'ro' || f === 'rw').at(-1) === 'ro';
  if (Object.keys(rest).length > 0 || !(tmpfs || bind))
    return [
      `volume ${key} sets driver_opts other than a tmpfs or a bind of a host path, which a preview may not set (allow it with option:volumes.driver_opts)`,
    ];
  const problem = bind ? bindProblem(String(device ?? ''), ctx, { writable: !readOnly }) : undefined;
  return problem ? [`volume ${key} mounts ${problem}`] : [];
}
