// An analysis thread started from src/ (through tsx) starts here: it makes TypeScript importable
// (as bin/kirin.js does), then runs the body. A compiled service starts dist/tasks/analysis-thread.js.
import { register } from 'tsx/esm/api';

register();
await import('./analysis-thread.ts');
