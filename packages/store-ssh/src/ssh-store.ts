import {
  Chunk,
  type ChunkId,
  ChunkMissing,
  type GetChunkOptions,
  InvalidArgument,
  type Store,
  StoreError,
} from '@desync/core';
import { type PullAnswer, PullSession, type RemotePipes } from './pull-session.js';
import { openRemotePipes, remoteProgram } from './ssh-connect.js';
import { parseSshLocation, type SshLocation, shellQuote } from './ssh-location.js';

/** Options of SshStore. */
export interface SshStoreOptions {
  /** `ssh://[user@]host[:port]/path` or casync's `[user@]host:path`. Required. */
  location: string;
  /** Protocol sessions (SSH connections) opened at most, lazily, one at a time. Default 10, at least 1. */
  concurrency?: number;
  /** Milliseconds a chunk may take to arrive, and for connecting; default no limit (ssh2: 20 s to connect). */
  timeoutMs?: number;
  /**
   * The ssh command used instead of the built-in client, run as `CMD [-p PORT] [user@]host
   * REMOTE_COMMAND` like casync does. Default the CASYNC_SSH_PATH environment variable; when
   * neither is set the built-in client (ssh2) connects.
   */
  sshPath?: string;
  /** The casync (or `desync`) run on the remote. Default CASYNC_REMOTE_PATH, else `casync`. */
  remotePath?: string;
  /** Built-in client: private key files tried in order. Default ~/.ssh/id_ed25519, id_rsa, id_ecdsa. */
  identityFiles?: readonly string[];
  /** Built-in client: ssh-agent socket, or false for none. Default SSH_AUTH_SOCK. */
  agent?: string | false;
  /** Built-in client: OpenSSH known_hosts files. Default ~/.ssh/known_hosts. */
  knownHostsFiles?: readonly string[];
  /** Built-in client: accept any host key (`--ssh-skip-host-key-check`). Default false. */
  skipHostKeyCheck?: boolean;
  /**
   * Opens the pipes of one session instead of ssh (a tunnel, or an in-process servePull in
   * tests); given the command line the remote would run. Default: sshPath or the built-in client.
   */
  transport?: (remoteCommand: string) => Promise<RemotePipes>;
}

/** One protocol session in the pool, with the ids it was ever asked for. */
interface Slot {
  readonly opening: Promise<PullSession>;
  session: PullSession | undefined;
  /** casync's server answers an id once per session: a repeat must go to another session. */
  readonly asked: Set<ChunkId>;
  load: number;
  dead: boolean;
}

/** Ids a session is asked for before it is replaced, so `asked` stays bounded. */
const MAX_IDS_PER_SESSION = 1_000_000;

/**
 * A read-only chunk store reached over SSH with casync's remote protocol: it runs
 * `casync pull - - - 'PATH'` (or CASYNC_REMOTE_PATH, e.g. `desync`) on the host and requests
 * chunks on the pipes, as `casync extract --store=host:/path` does.
 *
 * Sessions are opened lazily, one at a time, up to `concurrency`; each keeps any number of
 * requests in flight (ids asked for in one tick share one REQUEST message), and concurrent
 * requests for one id share one answer. hasChunk requests the chunk (the protocol has no
 * query) and reports whether CHUNK or MISSING came back. Every chunk is checked against its
 * id when read (Chunk.fromCompressed). A session whose remote dies fails its outstanding
 * requests with a StoreError naming this store; later requests open a new session.
 */
export class SshStore implements Store {
  readonly location: SshLocation;
  private readonly name: string;
  private readonly maxSessions: number;
  private readonly slots: Slot[] = [];
  /** Slots taken out of the pool whose sessions still finish outstanding requests. */
  private readonly retiring = new Set<Slot>();
  private readonly inflight = new Map<ChunkId, Promise<PullAnswer>>();
  private closed = false;

  constructor(private readonly options: SshStoreOptions) {
    this.location = parseSshLocation(options.location);
    // Locations carry no password (parseSshLocation refuses one): the name is what the user wrote.
    this.name = options.location;
    this.maxSessions = Math.max(1, options.concurrency ?? 10);
    if (options.timeoutMs !== undefined && !(options.timeoutMs > 0)) {
      throw new InvalidArgument(`timeoutMs must be positive, got ${options.timeoutMs}`);
    }
  }

  /** The command line run on the remote. */
  get remoteCommand(): string {
    return `${remoteProgram(this.options)} pull - - - ${shellQuote(this.location.path)}`;
  }

  async getChunk(id: ChunkId, options?: GetChunkOptions): Promise<Chunk> {
    const answer = await this.fetch(id, options?.signal);
    if (!answer) throw new ChunkMissing(id, this.name);
    const origin = {
      source: this.name,
      ...(options?.expectedSize !== undefined ? { expectedSize: options.expectedSize } : {}),
    };
    return answer.compressed
      ? Chunk.fromCompressed(id, answer.data, origin)
      : Chunk.fromUnverifiedPlain(id, answer.data, origin);
  }

  /** Requests the chunk: true when the remote sends it, false when it reports it missing. */
  async hasChunk(id: ChunkId): Promise<boolean> {
    return (await this.fetch(id)) !== undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const slots = [...this.slots.splice(0), ...this.retiring];
    this.retiring.clear();
    await Promise.all(
      slots.map(async (slot) => {
        slot.dead = true;
        const session = await slot.opening.catch(() => undefined);
        await session?.close();
      }),
    );
  }

  toString(): string {
    return this.name;
  }

  private fetch(id: ChunkId, signal?: AbortSignal): Promise<PullAnswer> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.closed) return Promise.reject(new StoreError(this.name, 'the store is closed'));
    let shared = this.inflight.get(id);
    if (!shared) {
      shared = this.request(id).finally(() => this.inflight.delete(id));
      this.inflight.set(id, shared);
    }
    const request = shared;
    if (!signal) return request;
    return new Promise<PullAnswer>((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      request.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  private async request(id: ChunkId): Promise<PullAnswer> {
    const slot = this.slotFor(id);
    slot.asked.add(id);
    slot.load++;
    try {
      const session = await slot.opening;
      const answer = session.request(id);
      return await (this.options.timeoutMs === undefined ? answer : this.withTimeout(answer, id, session));
    } finally {
      slot.load--;
      if (slot.asked.size >= MAX_IDS_PER_SESSION) this.retire(slot);
    }
  }

  private withTimeout(answer: Promise<PullAnswer>, id: ChunkId, session: PullSession): Promise<PullAnswer> {
    const ms = this.options.timeoutMs!;
    return new Promise<PullAnswer>((resolve, reject) => {
      const timer = setTimeout(() => {
        // A remote that does not answer in time is given up: its other requests fail too.
        reject(new StoreError(this.name, `no answer for chunk ${id} within ${ms / 1000} s`));
        void session.close();
      }, ms);
      answer.then(resolve, reject).finally(() => clearTimeout(timer));
    });
  }

  /**
   * Picks the session for `id`: an idle one, else a new one (while none is being opened and
   * the pool is not full), else the least loaded one. Sessions that answered `id` before are
   * skipped; when all were, the least loaded is replaced by a new one.
   */
  private slotFor(id: ChunkId): Slot {
    const live = this.slots.filter((s) => !s.dead && (!s.session || s.session.usable));
    for (const s of [...this.slots]) if (!live.includes(s)) this.retire(s);
    const fresh = live.filter((s) => !s.asked.has(id));
    const idle = fresh.find((s) => s.session && s.load === 0);
    if (idle) return idle;
    const opening = live.some((s) => !s.session);
    if (fresh.length === 0 || (!opening && live.length < this.maxSessions)) {
      if (live.length >= this.maxSessions) {
        const victim = live.reduce((a, b) => (b.load < a.load ? b : a));
        this.retire(victim);
      }
      return this.open();
    }
    return fresh.reduce((a, b) => (b.load < a.load ? b : a));
  }

  private open(): Slot {
    const slot: Slot = {
      opening: this.connect().then((pipes) => new PullSession(pipes, this.name)),
      session: undefined,
      asked: new Set(),
      load: 0,
      dead: false,
    };
    slot.opening.then(
      (session) => {
        slot.session = session;
        if (slot.dead) void session.close();
      },
      () => {
        slot.dead = true;
        this.retire(slot);
      },
    );
    this.slots.push(slot);
    return slot;
  }

  /** Takes a slot out of the pool; its session closes once its outstanding requests are done. */
  private retire(slot: Slot): void {
    const at = this.slots.indexOf(slot);
    if (at >= 0) this.slots.splice(at, 1);
    slot.dead = true;
    this.retiring.add(slot);
    const closeWhenIdle = (session: PullSession): void => {
      if (slot.load === 0 || !session.usable || this.closed) {
        this.retiring.delete(slot);
        void session.close();
        return;
      }
      setTimeout(() => closeWhenIdle(session), 50).unref();
    };
    slot.opening.then(closeWhenIdle, () => this.retiring.delete(slot));
  }

  private connect(): Promise<RemotePipes> {
    return openRemotePipes(this.name, this.location, this.remoteCommand, this.options);
  }
}
