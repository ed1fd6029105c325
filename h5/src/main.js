import { createSSRApp } from 'vue'
import App from './App.vue'
import { prefetchCampaignForm } from './lib/prefetch.js'

prefetchCampaignForm()

export function createApp() {
  const app = createSSRApp(App)
  return { app }
}
