import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';
import Components from 'unplugin-vue-components/vite';
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers';

// The admin console is served by Dmh.Ingress under /admin/ (hash routing, so no server fallback is needed).
export default defineConfig({
  base: '/admin/',
  plugins: [vue(), Components({ dts: false, resolvers: [ElementPlusResolver({ importStyle: 'css' })] })],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 900,
  },
  server: {
    port: 5173,
    proxy: { '/api': process.env.DMH_BASE_URL || 'http://127.0.0.1:5080', '/uploads': process.env.DMH_BASE_URL || 'http://127.0.0.1:5080' },
  },
  test: {
    include: ['src/**/*.test.js'],
    environment: 'node',
  },
});
