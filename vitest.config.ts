import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const guard = fileURLToPath(new URL('./test/setup/loopback-guard.mjs', import.meta.url));

export default defineConfig({
  resolve: { conditions: ['fieldseal-source', 'module', 'node', 'import', 'default'] },
  ssr: { resolve: { conditions: ['fieldseal-source', 'node', 'default'], externalConditions: ['fieldseal-source'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts', 'examples/**/*.test.ts', 'benchmarks/**/*.test.ts'],
    globalSetup: ['./test/setup/build.mjs'],
    setupFiles: ['./test/setup/loopback-guard.mjs', './test/setup/vitest-hooks.mjs'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    env: {
      // Keep cloud SDKs away from metadata services and quiet on Node 20 (see shared notes §6).
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      METADATA_SERVER_DETECTION: 'none',
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${guard}`.trim(),
    },
  },
});
