import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'test/**/*.test.ts',
      'lib/**/*.test.ts',
      'functions/**/*.test.ts',
      'infra/**/*.test.ts',
    ],
    environment: 'node',
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Tests start their own servers on 127.0.0.1:0; two workers fit the 2-core machines.
    maxWorkers: 2,
  },
});
