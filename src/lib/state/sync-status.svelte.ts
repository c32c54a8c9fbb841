// The one sync indicator the header shows: offline, connecting, syncing, synced, or signed out,
// plus the number of grade conflicts waiting to be settled. Rooms report in; views only read.
import type { ConnectionState } from '../sync/room-connection';
import { connectivity } from './connectivity.svelte';

export type OverallSync = 'offline' | 'connecting' | 'syncing' | 'synced' | 'denied' | 'idle';

export class SyncStatus {
  rooms = $state<Record<string, ConnectionState>>({});
  conflicts = $state(0);
  /** Where the conflicts are listed (the open course's panel). */
  conflictsHref = $state('/');
  detail = $state<string | null>(null);

  overall = $derived.by((): OverallSync => {
    const states = Object.values(this.rooms);
    if (!connectivity.online) return 'offline';
    if (states.length === 0) return 'idle';
    if (states.includes('denied')) return 'denied';
    if (states.includes('offline')) return 'offline';
    if (states.includes('connecting')) return 'connecting';
    if (states.includes('syncing')) return 'syncing';
    return 'synced';
  });

  report(room: string, state: ConnectionState, detail?: string): void {
    this.rooms[room] = state;
    if (detail) this.detail = detail;
  }

  forget(room: string): void {
    delete this.rooms[room];
  }
}

export const syncStatus = new SyncStatus();
