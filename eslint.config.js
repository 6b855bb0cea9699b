import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'data/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // The wire types are a leaf that the server and the browser both import (src/contract/README.md).
    files: ['src/contract/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "ImportDeclaration[importKind!='type']",
          message: 'src/contract imports types only (import type).',
        },
        {
          selector: 'ImportDeclaration[source.value=/^(?!\\.\\/[\\w-]+\\.js$)/]',
          message: 'src/contract imports nothing from outside src/contract.',
        },
        {
          selector: 'ImportExpression, ExportAllDeclaration, ExportNamedDeclaration[source]',
          message: 'src/contract re-exports and loads nothing.',
        },
      ],
    },
  },
  {
    // The service worker is plain JavaScript served as it is (web/public), in the worker's scope.
    files: ['web/public/**/*.js'],
    languageOptions: { globals: globals.serviceworker, sourceType: 'script' },
  },
  {
    files: ['web/src/**/*.{ts,tsx}'],
    languageOptions: { globals: globals.browser },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'warn',
    },
  },
);
