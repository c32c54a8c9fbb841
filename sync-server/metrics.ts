// Counters and gauges of the sync server, rendered in the Prometheus text format for GET /metrics.
// Only counts; never holds document content or user data.

/** Update rate is averaged over this many seconds. */
const RATE_WINDOW_SEC = 10;

export class Metrics {
  connectionsTotal = 0;
  updatesTotal = 0;
  updateBytesTotal = 0;
  rejectedWrites = 0;
  malformed = 0;
  frames = 0;
  bytesIn = 0;
  bytesOut = 0;
  roomsLoaded = 0;
  roomsEvicted = 0;
  readonly closes = new Map<number, number>();
  private readonly buckets = new Map<number, number>();

  constructor(private readonly now: () => number) {}

  update(bytes: number): void {
    this.updatesTotal++;
    this.updateBytesTotal += bytes;
    const sec = Math.floor(this.now() / 1000);
    this.buckets.set(sec, (this.buckets.get(sec) ?? 0) + 1);
    if (this.buckets.size > RATE_WINDOW_SEC * 2)
      for (const k of this.buckets.keys()) if (k < sec - RATE_WINDOW_SEC) this.buckets.delete(k);
  }

  closed(code: number): void {
    this.closes.set(code, (this.closes.get(code) ?? 0) + 1);
  }

  /** Updates per second over the last RATE_WINDOW_SEC whole seconds. */
  updateRate(): number {
    const sec = Math.floor(this.now() / 1000);
    let n = 0;
    for (const [k, v] of this.buckets) if (k >= sec - RATE_WINDOW_SEC && k < sec) n += v;
    return n / RATE_WINDOW_SEC;
  }

  render(g: {
    connections: number;
    rooms: number;
    storeBytes: number;
    heapBytes: number;
    rssBytes: number;
  }): string {
    const lines: string[] = [];
    const metric = (name: string, type: 'gauge' | 'counter', help: string, value: number, labels = '') => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name}${labels} ${value}`);
    };
    metric('markbook_connections', 'gauge', 'Open websocket connections.', g.connections);
    metric(
      'markbook_connections_total',
      'counter',
      'Websocket connections accepted since start.',
      this.connectionsTotal,
    );
    metric('markbook_documents_loaded', 'gauge', 'Documents held in memory.', g.rooms);
    metric('markbook_documents_evicted_total', 'counter', 'Idle documents unloaded.', this.roomsEvicted);
    metric('markbook_updates_total', 'counter', 'Document updates stored and applied.', this.updatesTotal);
    metric(
      'markbook_update_bytes_total',
      'counter',
      'Bytes of document updates stored.',
      this.updateBytesTotal,
    );
    metric(
      'markbook_update_rate',
      'gauge',
      `Updates per second over the last ${RATE_WINDOW_SEC} s.`,
      this.updateRate(),
    );
    metric(
      'markbook_rejected_writes_total',
      'counter',
      'Writes refused for lack of permission.',
      this.rejectedWrites,
    );
    metric(
      'markbook_malformed_frames_total',
      'counter',
      'Connections closed for a malformed frame.',
      this.malformed,
    );
    metric('markbook_frames_total', 'counter', 'Websocket messages decoded.', this.frames);
    metric('markbook_bytes_in_total', 'counter', 'Websocket bytes received.', this.bytesIn);
    metric('markbook_bytes_out_total', 'counter', 'Websocket bytes sent.', this.bytesOut);
    metric('markbook_store_bytes', 'gauge', 'Size of the data directory on disk.', g.storeBytes);
    metric('markbook_heap_bytes', 'gauge', 'V8 heap in use.', g.heapBytes);
    metric('markbook_rss_bytes', 'gauge', 'Resident set size.', g.rssBytes);
    lines.push(
      '# HELP markbook_closes_total Connections closed by the server, by close code.',
      '# TYPE markbook_closes_total counter',
    );
    for (const [code, n] of [...this.closes].sort((a, b) => a[0] - b[0]))
      lines.push(`markbook_closes_total{code="${code}"} ${n}`);
    return lines.join('\n') + '\n';
  }
}
