#!/usr/bin/env node
// `npm start`: builds the app when its sources changed, then serves it together with the sync server
// on 127.0.0.1, seeded with the demo site on first start. Runs the TypeScript entry through tsx.
import { register } from 'tsx/esm/api';

register();
await import('./start-main.ts');
