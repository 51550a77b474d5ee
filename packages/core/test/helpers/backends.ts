import { backend as nodeBackend } from '../../src/lib/backend/node.js';
import { backend as webBackend } from '../../src/lib/backend/web.js';
import type { Backend } from '../../src/lib/backend/types.js';

/** Both crypto backends: every format test runs under each, and across them. */
export const backends: readonly [string, Backend][] = [
  ['node', nodeBackend],
  ['web', webBackend],
];
export { nodeBackend, webBackend };
