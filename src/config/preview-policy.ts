import fs from 'node:fs';
import path from 'node:path';

/**
 * A preview deploys a pull request's stack file on the swarm that runs production, with the rights of
 * a manager. The policy keeps it to its own stack: no host paths, no objects outside the preview's
 * namespace, no options that reach past the container, no published port but the preview's own, and
 * no runner files outside the workspace. preview-allow lists what a repository trusts its pull
 * requests with.
 */
export interface PreviewAllowance {
  /** Host paths that may be bind-mounted, with what is beneath them (the Docker socket only by name). */
  bind: string[];
  /** Networks, volumes, secrets and configs outside the preview's namespace, by their Swarm name. */
  object: string[];
  /** Service options (privileged, cap_add, ...). */
  option: string[];
  /** Published ports besides the preview's own. */
  port: number[];
}

export const ALLOWANCE_KINDS = ['bind', 'object', 'option', 'port'] as const;

/** Service options that reach past the container: the host's namespaces, devices and privileges. */
export const HOST_OPTIONS = [
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
  // A logging driver runs in the node's daemon: its credentials (awslogs) and its network.
  'logging',
];

const DOCKER_SOCKETS = ['/var/run/docker.sock', '/run/docker.sock'];
const OBJECT_KINDS = ['networks', 'volumes', 'secrets', 'configs'] as const;

export interface PreviewContext {
  /** The preview's stack, whose objects are STACK_NAME. */
  stack: string;
  /** PREVIEW_PORT. */
  port: number;
  /** The stack file's directory (relative paths in it start there) and the workspace they must stay in. */
  dir: string;
  workspace: string;
  allow: PreviewAllowance;
}

type Doc = Record<string, unknown>;

const record = (v: unknown): Doc => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Doc) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** What the (interpolated) stack file does that a preview may not: one line per finding. */
export function previewPolicyProblems(doc: Doc, ctx: PreviewContext): string[] {
  const problems: string[] = [];
  for (const [name, def] of Object.entries(record(doc.services))) {
    const service = record(def);
    problems.push(...hostOptions(name, service, ctx), ...mounts(name, service, ctx));
    problems.push(...ports(name, service, ctx), ...envFiles(name, service, ctx));
  }
  for (const kind of OBJECT_KINDS) {
    for (const [key, def] of Object.entries(record(doc[kind]))) problems.push(...object(kind, key, def, ctx));
  }
  return problems;
}

function hostOptions(name: string, service: Doc, ctx: PreviewContext): string[] {
  return HOST_OPTIONS.filter((o) => service[o] !== undefined && !ctx.allow.option.includes(o)).map(
    (o) => `service ${name} sets ${o}, which reaches past its container (allow it with option:${o})`,
  );
}

/** A volume entry's source and type, from the short ("SRC:DST[:MODE]") or the long syntax. */
function mountOf(entry: unknown): { type: string; source: string } {
  if (typeof entry === 'string') {
    const parts = entry.split(':');
    if (parts.length < 2) return { type: 'volume', source: '' };
    const source = parts[0];
    const isPath = /^(\/|\.|~)/.test(source);
    return { type: isPath ? 'bind' : 'volume', source };
  }
  const m = record(entry);
  return { type: String(m.type ?? 'volume'), source: String(m.source ?? '') };
}

const beneath = (p: string, dir: string) => p === dir || p.startsWith(dir.endsWith('/') ? dir : `${dir}/`);

/** The Docker sockets at or beneath a host path: each must be allowed by its own path. */
const socketsIn = (host: string) => DOCKER_SOCKETS.filter((s) => beneath(s, host));

/** Why a bind mount of a host path is refused, or undefined when preview-allow lets it through. */
function bindProblem(source: string, ctx: PreviewContext): string | undefined {
  const host = path.posix.resolve(ctx.dir, source);
  const sockets = socketsIn(host).filter((s) => !ctx.allow.bind.includes(s));
  if (sockets.length > 0) {
    const fix = [...sockets, ...(sockets.includes(host) ? [] : [host])].map((p) => `bind:${p}`).join(' and ');
    const what = sockets.includes(host)
      ? "the manager's Docker socket"
      : "which holds the manager's Docker socket";
    return `${source}, ${what} (allow it with ${fix})`;
  }
  if (socketsIn(host).includes(host) || ctx.allow.bind.some((p) => beneath(host, p))) return undefined;
  return `${source}, a path of the host (allow it with bind:${host})`;
}

function mounts(name: string, service: Doc, ctx: PreviewContext): string[] {
  return list(service.volumes)
    .map(mountOf)
    .filter((m) => m.type === 'bind' || m.type === 'npipe')
    .map((m) => bindProblem(m.source, ctx))
    .filter((p): p is string => p !== undefined)
    .map((p) => `service ${name} mounts ${p}`);
}

/** Published ports: "PUBLISHED:TARGET", "IP:PUBLISHED:TARGET", ranges, or the long syntax's published. */
function publishedPorts(entry: unknown): number[] {
  let published: string;
  if (typeof entry === 'number') return [];
  if (typeof entry === 'string') {
    const parts = entry.split('/')[0].split(':');
    if (parts.length < 2) return [];
    published = parts[parts.length - 2];
  } else {
    const p = record(entry).published;
    if (p === undefined || p === '') return [];
    published = String(p);
  }
  const [from, to = from] = published.split('-').map(Number);
  if (!Number.isInteger(from) || !Number.isInteger(to) || to < from || to - from > 65535) return [NaN];
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function ports(name: string, service: Doc, ctx: PreviewContext): string[] {
  const foreign = list(service.ports)
    .flatMap(publishedPorts)
    .filter((p) => p !== ctx.port && !ctx.allow.port.includes(p));
  if (foreign.length === 0) return [];
  const shown = [...new Set(foreign.map((p) => (Number.isNaN(p) ? 'one it cannot read' : String(p))))];
  return [
    `service ${name} publishes port ${shown.join(', ')}, not the preview's own ${ctx.port} (use \${PREVIEW_PORT}, or allow it with port:N)`,
  ];
}

/** A file the docker CLI reads on the runner must be in the workspace (not the runner's own files, nor .git). */
function outsideWorkspace(file: string, ctx: PreviewContext): boolean {
  const resolved = path.resolve(ctx.dir, file.replace(/^~(?=\/|$)/, process.env.HOME ?? '/'));
  const real = (p: string) => {
    try {
      return fs.realpathSync(p);
    } catch {
      return path.resolve(p);
    }
  };
  const relative = path.relative(real(ctx.workspace), real(resolved));
  // .git holds the checkout's credentials (actions/checkout keeps the token in .git/config).
  return relative.startsWith('..') || path.isAbsolute(relative) || /^\.git(\/|$)/.test(relative);
}

function envFiles(name: string, service: Doc, ctx: PreviewContext): string[] {
  const files = typeof service.env_file === 'string' ? [service.env_file] : list(service.env_file);
  return files
    .map((f) => (typeof f === 'string' ? f : String(record(f).path ?? '')))
    .filter((f) => outsideWorkspace(f, ctx))
    .map((f) => `service ${name} reads env_file ${f}, which is outside the workspace`);
}

function object(
  kind: (typeof OBJECT_KINDS)[number],
  key: string,
  def: unknown,
  ctx: PreviewContext,
): string[] {
  const o = record(def);
  const singular = kind.slice(0, -1);
  const problems: string[] = [];
  const file = o.file;
  if (typeof file === 'string' && outsideWorkspace(file, ctx))
    problems.push(`${singular} ${key} is read from ${file}, which is outside the workspace`);
  const opts = record(o.driver_opts);
  if (kind === 'volumes' && (opts.device !== undefined || /\bbind\b/.test(String(opts.o ?? '')))) {
    const problem = bindProblem(String(opts.device ?? ''), ctx);
    if (problem) problems.push(`volume ${key} mounts ${problem}`);
  }
  const external = o.external === true || (o.external !== undefined && o.external !== false);
  const legacyName = record(o.external).name;
  const name = typeof o.name === 'string' ? o.name : typeof legacyName === 'string' ? legacyName : undefined;
  if (!external && name === undefined) return problems; // STACK_KEY: the preview's own
  const swarmName = name ?? key;
  // The action's own secrets are STACK_NAME_VERSION too.
  const own = swarmName.startsWith(`${ctx.stack}_`);
  if (!own && !ctx.allow.object.includes(swarmName)) {
    const how = external ? 'an external' : 'a';
    problems.push(
      `${singular} ${key} is ${how} ${singular} named ${swarmName}, outside the preview's stack (allow it with object:${swarmName})`,
    );
  }
  return problems;
}
