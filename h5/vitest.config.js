import { defineConfig } from 'vitest/config';

// Units run without the uni-app plugin: they cover the plain modules under src/lib and src/api.
export default defineConfig({
  test: {
    include: ['tests/unit/**/*.test.js'],
    environment: 'node',
  },
});
