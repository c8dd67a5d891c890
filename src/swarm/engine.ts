import Modem from 'docker-modem';
import { setTimeout as sleep } from 'node:timers/promises';
import { PassThrough, type Readable } from 'node:stream';
import { swarmUnavailable } from './manager.js';

/** The subset of the Engine API's Task that the action reads. */
export interface Task {
  ID: string;
  ServiceID: string;
  Slot?: number;
  NodeID?: string;
  CreatedAt: string;
  UpdatedAt?: string;
  DesiredState: string;
  Spec: Record<string, unknown> & { ContainerSpec?: { Image?: string } };
  JobIteration?: { Index?: number };
  Status: {
    Timestamp: string;
    State: string;
    Message?: string;
    Err?: string;
    ContainerStatus?: { ContainerID?: string; ExitCode?: number };
  };
}

export interface Service {
  ID: string;
  Version: { Index: number };
  UpdatedAt: string;
  Spec: {
    Name: string;
    Labels?: Record<string, string>;
    TaskTemplate: Record<string, unknown> & {
      ContainerSpec?: {
        Image?: string;
        StopGracePeriod?: number;
        Healthcheck?: { Test?: string[] };
      };
      RestartPolicy?: { Condition?: string; MaxAttempts?: number };
      ForceUpdate?: number;
    };
    Mode: {
      Replicated?: { Replicas?: number };
      Global?: Record<string, never>;
      ReplicatedJob?: { MaxConcurrent?: number; TotalCompletions?: number };
      GlobalJob?: Record<string, never>;
    };
  };
  UpdateStatus?: { State?: string; Message?: string; StartedAt?: string; CompletedAt?: string } | null;
  JobStatus?: { JobIteration?: { Index?: number } };
}

export type SwarmObjectKind = 'configs' | 'secrets';

/** A Swarm config or secret, as listed (a secret's data is never returned); times on the manager's clock. */
export interface SwarmObject {
  ID: string;
  Version?: { Index: number };
  CreatedAt: string;
  /** Moved by every update, e.g. of its labels. */
  UpdatedAt?: string;
  Spec: { Name: string; Labels?: Record<string, string>; Data?: string };
}

type Filters = Record<string, string[]>;

interface Call {
  query?: Record<string, unknown>;
  stream?: boolean;
  method?: 'GET' | 'POST' | 'DELETE';
  body?: unknown;
}

/** The way to the manager (the SSH tunnel), which can move to another manager of the swarm. */
export interface ManagerLink {
  /** Resolves when the way is up (at once, or after a reconnect); rejects once it was given up. */
  ready(): Promise<void>;
  /**
   * The manager asked at askedAt (ms) answered that the swarm cannot be served through it: move to one
   * that can (unless the link moved since).
   */
  lost(why: string, askedAt: number): Promise<void>;
}

/** What a call gives, or `otherwise` when the engine answers it with `status` (404: there is none). */
async function unless<T, U>(status: number, otherwise: U, call: Promise<T>): Promise<T | U> {
  try {
    return await call;
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === status) return otherwise;
    throw e;
  }
}

/** How many times one call is made before its error stands. */
const ATTEMPTS = 20;

/** Docker Engine API client over a Unix socket (the tunnel's local end). */
export class Engine {
  private readonly modem: Modem;
  /** Number of API requests made through this client and its forks, for the log, benchmarks and tests. */
  calls = 0;

  constructor(
    private readonly socketPath: string,
    private readonly link?: ManagerLink,
    private readonly parent?: Engine,
  ) {
    this.modem = new Modem({ socketPath, version: 'v1.41' });
  }

  /** A client on the same socket with a call count of its own, for one of several waits running at once. */
  fork(): Engine {
    return new Engine(this.socketPath, this.link, this);
  }

  /**
   * A call cut off by a dropped connection is made again once the link is back; a call the manager
   * answers with "the swarm has no leader" (or "not a manager") is made again through a manager that
   * can serve the swarm, once the link found one.
   */
  private async request<T>(path: string, call: Call = {}): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const askedAt = Date.now();
      try {
        return await this.dial<T>(path, call);
      } catch (e) {
        if (!this.link || attempt >= ATTEMPTS) throw e;
        const err = e as NodeJS.ErrnoException & { statusCode?: number; json?: { message?: string } };
        const unavailable = swarmUnavailable(err.statusCode ?? 0, err.json?.message ?? '');
        if (unavailable) {
          await this.link.lost(unavailable, askedAt);
          continue;
        }
        const cutOff =
          ['ECONNRESET', 'EPIPE', 'ECONNREFUSED'].includes(err.code ?? '') ||
          /socket hang up/.test(String(e));
        if (!cutOff) throw e;
        await sleep(250);
        await this.link.ready();
      }
    }
  }

  private countCall(): void {
    this.calls++;
    this.parent?.countCall();
  }

  private dial<T>(path: string, { query = {}, stream = false, method = 'GET', body }: Call): Promise<T> {
    this.countCall();
    return new Promise((resolve, reject) => {
      this.modem.dial(
        {
          path: method === 'GET' || Object.keys(query).length > 0 ? `${path}?` : path,
          method,
          options: method === 'POST' ? { _body: body, _query: query } : query,
          isStream: stream,
          statusCodes: {
            200: true,
            201: true,
            204: true,
            404: 'not found',
            400: 'bad parameter',
            409: 'conflict',
            500: 'server error',
            503: 'node is not a swarm manager',
          },
        },
        (err: unknown, data: unknown) => (err ? reject(err) : resolve(data as T)),
      );
    });
  }

  listServices(filters: Filters): Promise<Service[]> {
    return this.request<Service[]>('/services', { query: { filters } });
  }

  listTasks(filters: Filters): Promise<Task[]> {
    return this.request<Task[]>('/tasks', { query: { filters } });
  }

  listNodes(): Promise<{ ID: string; Description?: { Hostname?: string } }[]> {
    return this.request('/nodes');
  }

  inspectService(name: string): Promise<Service | undefined> {
    return unless(404, undefined, this.request<Service>(`/services/${encodeURIComponent(name)}`));
  }

  /** Creates a Swarm config or secret; false when one of that name exists already (creation is atomic). */
  async createObject(
    kind: SwarmObjectKind,
    name: string,
    labels: Record<string, string>,
    data: string,
  ): Promise<string | false> {
    const created = this.request<{ ID: string }>(`/${kind}/create`, {
      method: 'POST',
      body: { Name: name, Labels: labels, Data: Buffer.from(data).toString('base64') },
    });
    return unless(
      409,
      false as const,
      created.then((out) => out.ID),
    );
  }

  listObjects(kind: SwarmObjectKind, filters: Filters): Promise<SwarmObject[]> {
    return this.request<SwarmObject[]>(`/${kind}`, { query: { filters } });
  }

  /** A config or secret by id or name; undefined when there is none. */
  inspectObject(kind: SwarmObjectKind, id: string): Promise<SwarmObject | undefined> {
    return unless(404, undefined, this.request<SwarmObject>(`/${kind}/${encodeURIComponent(id)}`));
  }

  /**
   * Replaces the labels of a config or secret as inspected (the only part of its spec Swarm lets
   * change); fails when it changed since. False when it is gone.
   */
  async updateLabels(
    kind: SwarmObjectKind,
    object: SwarmObject,
    labels: Record<string, string>,
  ): Promise<boolean> {
    const updated = this.request(`/${kind}/${encodeURIComponent(object.ID)}/update`, {
      method: 'POST',
      query: { version: object.Version?.Index },
      body: { ...object.Spec, Labels: labels },
    });
    return unless(
      404,
      false,
      updated.then(() => true),
    );
  }

  /** Removes a config, secret, network, volume or container by id or name; false when it was already gone. */
  remove(kind: SwarmObjectKind | 'networks' | 'volumes' | 'containers', id: string): Promise<boolean> {
    const removed = this.request(`/${kind}/${encodeURIComponent(id)}`, { method: 'DELETE' });
    return unless(
      404,
      false,
      removed.then(() => true),
    );
  }

  listNetworks(filters: Filters): Promise<{ Id: string; Name: string }[]> {
    return this.request('/networks', { query: { filters } });
  }

  async listVolumes(filters: Filters): Promise<{ Name: string }[]> {
    return (
      (await this.request<{ Volumes: { Name: string }[] | null }>('/volumes', { query: { filters } }))
        .Volumes ?? []
    );
  }

  /** Containers on the manager node itself, stopped ones included. */
  listContainers(filters: Filters): Promise<{ Id: string; State: string; Names: string[] }[]> {
    return this.request('/containers/json', { query: { all: true, filters } });
  }

  /** The manager's clock now, in ms since the epoch (its /info SystemTime). */
  async systemTime(): Promise<number> {
    return Date.parse((await this.request<{ SystemTime: string }>('/info')).SystemTime);
  }

  /** The manager's own Swarm node id. */
  async nodeId(): Promise<string> {
    return (await this.request<{ Swarm: { NodeID: string } }>('/info')).Swarm.NodeID;
  }

  /** The last lines of a task's logs, stdout and stderr interleaved as the engine sends them. */
  async taskLogs(taskId: string, tail = 30): Promise<string> {
    const res = await this.request<Readable>(`/tasks/${encodeURIComponent(taskId)}/logs`, {
      query: { stdout: true, stderr: true, tail: String(tail), timestamps: false },
      stream: true,
    });
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    this.modem.demuxStream(res, out, out);
    await new Promise<void>((resolve, reject) => {
      res.on('end', resolve);
      res.on('error', reject);
    });
    return Buffer.concat(chunks).toString('utf8');
  }
}
