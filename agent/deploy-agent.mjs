#!/usr/bin/env node
// The `deploy-agent` bin: loads the TypeScript agent through tsx, as `npm start` does
// (`node --import tsx`). Run it with the Node 24 the package pins (npx / npm exec put it first on PATH).
import { register } from 'tsx/esm/api';

register();
await import('./bin.ts');
