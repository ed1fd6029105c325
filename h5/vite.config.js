import { defineConfig } from 'vite';
import uniPlugin from '@dcloudio/vite-plugin-uni';

// The plugin is CommonJS; under "type": "module" its default export arrives wrapped.
const uni = uniPlugin.default ?? uniPlugin;

/**
 * uni-app loads every page as an async chunk, so the landing page's code would only be requested
 * after the entry bundle ran: one more round trip on a slow mobile network. Preload that page's
 * chunk (and its CSS), and the validator it imports lazily, from index.html so they download
 * alongside the entry bundle. Other pages (success with the poster, rewards) stay lazy.
 */
function preloadLandingPage(moduleFiles) {
  let base = '/';
  return {
    name: 'dmh-preload-landing-page',
    apply: 'build',
    configResolved(config) {
      base = config.base;
    },
    transformIndexHtml: {
      order: 'post',
      handler(html, ctx) {
        const bundle = ctx.bundle;
        if (!bundle) return html;
        const chunks = Object.values(bundle).filter((c) => c.type === 'chunk');
        const roots = moduleFiles.map((f) => chunks.find((c) => c.facadeModuleId && c.facadeModuleId.split('?')[0].endsWith(f)));
        const js = new Set();
        const css = new Set();
        const visit = (c) => {
          if (!c || c.isEntry || js.has(c.fileName)) return;
          js.add(c.fileName);
          c.viteMetadata?.importedCss?.forEach((f) => css.add(f));
          c.imports.forEach((i) => visit(bundle[i]));
        };
        roots.forEach(visit);
        return [
          ...[...css].map((f) => ({ tag: 'link', attrs: { rel: 'stylesheet', crossorigin: true, href: base + f }, injectTo: 'head' })),
          ...[...js].map((f) => ({ tag: 'link', attrs: { rel: 'modulepreload', crossorigin: true, href: base + f }, injectTo: 'head' })),
        ];
      },
    },
  };
}

/**
 * uni-h5's framework CSS preloads navigation-bar shadow images from DCloud's CDN (a `shadow-preload`
 * animation on body:after). DMH's pages draw their own navigation bar, so the images are never shown,
 * and the request would fail offline and need the CDN in the page's CSP: drop those URLs.
 */
function dropDcloudCdnImages() {
  return {
    name: 'dmh-drop-dcloud-cdn-images',
    apply: 'build',
    generateBundle(_options, bundle) {
      for (const asset of Object.values(bundle)) {
        if (asset.type === 'asset' && asset.fileName.endsWith('.css') && typeof asset.source === 'string') {
          asset.source = asset.source.replace(/url\((['"]?)https:\/\/cdn\.dcloud\.net\.cn\/[^)'"]*\1\)/g, 'none');
        }
      }
    },
  };
}

// Served by Dmh.Ingress under /h5/ (hash router), so every asset URL starts with /h5/.
export default defineConfig({
  base: '/h5/',
  plugins: [uni(), preloadLandingPage(['pages/campaign/index.vue']), dropDcloudCdnImages()],
});
