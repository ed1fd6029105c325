// The one lint style of admin/ and h5/ (formatting is Prettier's, .prettierrc.json). Each app's
// eslint.config.js passes in the plugins it installed: this file sits outside both packages.
export default function dmhLint({ js, vue, prettier, globals }, { browserGlobals = {} } = {}) {
  return [
    { ignores: ['dist/**', 'unpackage/**', 'playwright-report/**', 'test-results/**'] },
    js.configs.recommended,
    ...vue.configs['flat/recommended'],
    prettier,
    {
      languageOptions: { ecmaVersion: 'latest', sourceType: 'module', globals: { ...globals.browser, ...browserGlobals } },
      rules: {
        'no-unused-vars': ['error', { args: 'after-used', caughtErrors: 'none', ignoreRestSiblings: true }],
        eqeqeq: ['error', 'always', { null: 'ignore' }],
        'no-var': 'error',
        'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      },
    },
    // uni-app names each page's file index.vue (pages.json points at the folder).
    { files: ['src/pages/**/index.vue'], rules: { 'vue/multi-word-component-names': 'off' } },
    // Browser tests, build scripts and configs run in Node.
    { files: ['e2e/**', 'scripts/**', '*.config.js'], languageOptions: { globals: globals.node } },
  ];
}
