import { defineConfig } from 'vite'
import uniPlugin from '@dcloudio/vite-plugin-uni'

// The plugin is CommonJS; under "type": "module" its default export arrives wrapped.
const uni = uniPlugin.default ?? uniPlugin

// Served by Dmh.Ingress under /h5/ (hash router), so every asset URL starts with /h5/.
export default defineConfig({
  base: '/h5/',
  plugins: [uni()]
})
