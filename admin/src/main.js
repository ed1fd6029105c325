import { createApp } from 'vue';
import App from './App.vue';
import { router } from './router.js';
import { setUnauthorizedHandler } from './api/http.js';
import { clearSession } from './session.js';
// styles of the Element Plus services used from script (the template components import their own)
import 'element-plus/es/components/message/style/css';
import 'element-plus/es/components/message-box/style/css';
import 'element-plus/es/components/loading/style/css';
import './styles.css';

setUnauthorizedHandler(() => {
  clearSession();
  const current = router.currentRoute.value;
  if (current.name !== 'sign-in') router.replace({ name: 'sign-in', query: { redirect: current.fullPath } });
});

createApp(App).use(router).mount('#app');
