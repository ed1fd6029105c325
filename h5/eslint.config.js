import js from '@eslint/js';
import prettier from 'eslint-config-prettier/flat';
import vue from 'eslint-plugin-vue';
import globals from 'globals';
import dmhLint from '../eslint.shared.mjs';

// uni-app's globals on the page.
export default dmhLint(
  { js, vue, prettier, globals },
  { browserGlobals: { uni: 'readonly', getCurrentPages: 'readonly', getApp: 'readonly' } },
);
