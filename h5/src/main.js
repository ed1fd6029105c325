import { createSSRApp } from 'vue';
import App from './App.vue';

// The landing page's validator (Ajv) is its biggest chunk: request it as soon as the entry runs,
// while the app boots and renders, instead of after the form is on screen.
if (typeof location !== 'undefined' && location.hash.startsWith('#/pages/campaign/index')) {
  import('./lib/validation.js').catch(() => {});
}

export function createApp() {
  const app = createSSRApp(App);
  return { app };
}
