// Worker threads start here: make TypeScript importable (as bin/kirin.js does), then run the body.
import { register } from 'tsx/esm/api';

register();
await import('./identify-worker.ts');
