// [SRV-8] Presence belongs to the connection that last announced it: a grader whose device reconnects and announces
// itself on the new socket before the server has seen the old one close stays shown when the old one closes, and
// goes when the new one closes without a goodbye. Real server, real sockets.
import { afterEach, expect, it } from 'vitest';
import * as encoding from 'lib0/encoding';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as Y from 'yjs';
import { login, rawClient, removeDir, startTestServer, until, yClient, type TestServer } from './server-harness.ts';

const MSG_AWARENESS = 1;
let server: TestServer | null = null;
afterEach(async () => {
  await server?.close();
  if (server) removeDir(server.dataDir);
  server = null;
});

/** An awareness frame announcing one client (fixed id) at a given clock with a state, as a device sends it. */
function announce(clientId: number, clock: number, state: Record<string, unknown>): Uint8Array {
  const doc = new Y.Doc();
  doc.clientID = clientId;
  const aw = new awarenessProtocol.Awareness(doc);
  aw.setLocalState(state);
  aw.meta.get(clientId)!.clock = clock;
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, MSG_AWARENESS);
  encoding.writeVarUint8Array(e, awarenessProtocol.encodeAwarenessUpdate(aw, [clientId]));
  aw.destroy();
  doc.destroy();
  return encoding.toUint8Array(e);
}

it('[SRV-8] a reconnected client keeps its presence when its old socket closes late, and loses it with the new one', async () => {
  server = await startTestServer();
  const { accessToken } = await login(server.http, 't1');
  const room = 'course/c1';
  const watcher = yClient(server.url, room, accessToken);
  await watcher.synced;
  const seen = () => watcher.provider.awareness.getStates().get(424242) as { cell?: string } | undefined;

  const old = rawClient(server.url, room, accessToken);
  await old.opened;
  old.ws.send(announce(424242, 1, { user: 'b', cell: 'A1' }));
  await until(() => seen()?.cell === 'A1', 'the first announcement at the watcher');

  // the device reconnects: its new socket announces it (a newer clock) while the old socket is still open
  const fresh = rawClient(server.url, room, accessToken);
  await fresh.opened;
  fresh.ws.send(announce(424242, 2, { user: 'b', cell: 'A2' }));
  await until(() => seen()?.cell === 'A2', 'the re-announcement at the watcher');

  // now the old socket's end reaches the server (no goodbye): the presence stays
  old.ws.terminate();
  await old.closed;
  await new Promise((r) => setTimeout(r, 300));
  expect(seen()?.cell).toBe('A2');

  // the new socket ends without a goodbye: the presence goes
  fresh.ws.terminate();
  await until(() => seen() === undefined, 'the presence removed when its own connection closed');
  watcher.destroy();
});
