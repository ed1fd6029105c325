import js from '@eslint/js';
import prettier from 'eslint-config-prettier/flat';
import vue from 'eslint-plugin-vue';
import globals from 'globals';
import dmhLint from '../eslint.shared.mjs';

export default dmhLint({ js, vue, prettier, globals });
