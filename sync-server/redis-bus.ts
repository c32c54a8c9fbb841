// Scale-out over Redis: each instance publishes the updates it accepted (after storing them) and applies the others'.
// A per-room list in Redis lets an instance that (re)loads a room catch up; Redis is never the only copy of anything.
import { Redis } from 'ioredis';
import * as Y from 'yjs';

/** Merge a room's Redis list into one update once it is this long. */
const HISTORY_COMPACT_AT = 500;

export interface RedisBusOptions {
  instanceId: string;
  onRemoteUpdate(room: string, update: Uint8Array): void;
  /** Sessions ended on another instance (sign-out, password change): close their sockets here too. */
  onSessionsEnded?(sessionIds: string[], reason: string): void;
  log(entry: object): void;
}

const CHANNEL_PREFIX = 'markbook:u:';
const LOG_PREFIX = 'markbook:log:';
const CONTROL = 'markbook:control';

export class RedisBus {
  healthy = false;
  private readonly rooms = new Set<string>();
  private readonly sinceCompact = new Map<string, number>();
  private readonly origin: Buffer;

  private constructor(
    private readonly pub: Redis,
    private readonly sub: Redis,
    private readonly opts: RedisBusOptions,
  ) {
    this.origin = Buffer.from(opts.instanceId, 'utf8');
    for (const c of [pub, sub]) {
      c.on('ready', () => (this.healthy = pub.status === 'ready' && sub.status === 'ready'));
      c.on('end', () => (this.healthy = false));
      c.on('error', (e: Error) => {
        this.healthy = false;
        opts.log({ level: 'warn', msg: 'redis error', error: e.message });
      });
    }
    sub.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      if (channel.toString('utf8') === CONTROL) {
        try {
          const m = JSON.parse(message.toString('utf8')) as {
            from: string;
            ended?: string[];
            reason?: string;
          };
          if (m.from !== opts.instanceId && m.ended)
            opts.onSessionsEnded?.(m.ended, m.reason ?? 'session ended');
        } catch {
          opts.log({ level: 'warn', msg: 'bad control message on redis' });
        }
        return;
      }
      const room = channel.toString('utf8').slice(CHANNEL_PREFIX.length);
      const n = message[0] ?? 0;
      if (message.length < 1 + n) return;
      if (message.subarray(1, 1 + n).equals(this.origin)) return;
      opts.onRemoteUpdate(room, new Uint8Array(message.subarray(1 + n)));
    });
  }

  static async connect(url: string, opts: RedisBusOptions): Promise<RedisBus> {
    const mk = () => new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: true });
    const pub = mk();
    const sub = mk();
    try {
      await Promise.all([pub.connect(), sub.connect()]);
    } catch (e) {
      pub.disconnect();
      sub.disconnect();
      throw new Error(`cannot connect to Redis at ${url}: ${(e as Error).message}`);
    }
    const bus = new RedisBus(pub, sub, opts);
    await sub.subscribe(CONTROL);
    bus.healthy = true;
    return bus;
  }

  /** The command connection (shared accounts and sessions use it). */
  get client(): Redis {
    return this.pub;
  }

  /** Tells the other instances that sessions ended. */
  async endSessions(sessionIds: string[], reason: string): Promise<void> {
    if (sessionIds.length)
      await this.pub.publish(
        CONTROL,
        JSON.stringify({ from: this.opts.instanceId, ended: sessionIds, reason }),
      );
  }

  async subscribe(room: string): Promise<void> {
    if (this.rooms.has(room)) return;
    this.rooms.add(room);
    await this.sub.subscribe(CHANNEL_PREFIX + room);
  }

  async unsubscribe(room: string): Promise<void> {
    if (!this.rooms.delete(room)) return;
    await this.sub.unsubscribe(CHANNEL_PREFIX + room);
  }

  /** Everything other instances have published for `room` (possibly merged). */
  async history(room: string): Promise<Uint8Array[]> {
    const items = await this.pub.lrangeBuffer(LOG_PREFIX + room, 0, -1);
    return items.map((b) => new Uint8Array(b));
  }

  /** Appends to the room's list and publishes; failures are logged (the local store already holds the update). */
  publish(room: string, update: Uint8Array): void {
    const msg = Buffer.concat([Buffer.from([this.origin.length]), this.origin, Buffer.from(update)]);
    this.pub
      .multi()
      .rpush(LOG_PREFIX + room, Buffer.from(update))
      .publish(CHANNEL_PREFIX + room, msg)
      .exec()
      .catch((e: Error) =>
        this.opts.log({ level: 'warn', msg: 'redis publish failed', room, error: e.message }),
      );
    const n = (this.sinceCompact.get(room) ?? 0) + 1;
    this.sinceCompact.set(room, n);
    if (n >= HISTORY_COMPACT_AT) {
      this.sinceCompact.set(room, 0);
      void this.compact(room);
    }
  }

  /** Replaces the room's list by one merged update, unless another instance changed it meanwhile (WATCH). */
  private async compact(room: string): Promise<void> {
    const key = LOG_PREFIX + room;
    const c = this.pub.duplicate();
    try {
      await c.watch(key);
      const items = await c.lrangeBuffer(key, 0, -1);
      if (items.length < 2) return void (await c.unwatch());
      const merged = Buffer.from(Y.mergeUpdates(items.map((b) => new Uint8Array(b))));
      await c.multi().del(key).rpush(key, merged).exec();
    } catch (e) {
      this.opts.log({ level: 'warn', msg: 'redis compaction failed', room, error: (e as Error).message });
    } finally {
      c.disconnect();
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.sub.quit(), this.pub.quit()]);
  }
}
