// ESLint (flat config): the recommended JavaScript and typescript-eslint rules, tuned to the project's style.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeGlobals = Object.fromEntries(
  ['require', 'module', 'exports', 'process', 'console', '__dirname', '__filename', 'Buffer', 'URL', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate'].map((g) => [g, 'readonly']),
);

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test/nr5/**', 'test/output/**', '.demo/**', 'lib/schema/onvif-types.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      // Operation results are schema-shaped data; `any` at those edges is deliberate (typed per operation where known).
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      // Device text is cleaned of control characters by regular expressions that name them.
      'no-control-regex': 'off',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'prefer-const': 'error',
      'no-var': 'error',
      // Node-RED's own convention in node constructors (`const node = this`), and host objects whose getters read the device.
      '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['node', 'device'] }],
    },
  },
  {
    // Tests load the built package (dist/) the way a user's code would: with require().
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The library is usable without Node-RED: it never imports it.
    files: ['lib/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['node-red', '@node-red/*'], message: 'lib/ never imports Node-RED; put Node-RED code in nodes/.' }] }] },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { sourceType: 'commonjs', globals: nodeGlobals },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  { files: ['**/*.mjs'], languageOptions: { sourceType: 'module' } },
);
