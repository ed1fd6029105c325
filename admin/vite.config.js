import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';
import Components from 'unplugin-vue-components/vite';
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers';

// The admin console is served by Dmh.Ingress under /admin/ (hash routing, so no server fallback is needed).
export default defineConfig({
  base: '/admin/',
  plugins: [
    vue(),
    Components({ dts: false, resolvers: [ElementPlusResolver({ importStyle: 'css' })] }),
  ],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 900,
    rollupOptions: {
      output: {
        manualChunks(id) {
          if (!id.includes('node_modules')) return undefined;
          if (id.includes('echarts') || id.includes('zrender')) return 'echarts';
          if (id.includes('element-plus') || id.includes('@element-plus') || id.includes('@floating-ui') || id.includes('lodash') || id.includes('dayjs') || id.includes('@vueuse') || id.includes('async-validator')) return 'element-plus';
          if (id.includes('qrcode')) return 'qrcode';
          return 'vendor';
        },
      },
    },
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
