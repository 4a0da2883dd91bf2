import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import reactHooks from 'eslint-plugin-react-hooks';

// core must stay runnable in plain Node and in workers: no DOM, GPU, React, or the layers above it.
const coreRestrictions = {
  paths: [
    { name: 'react', message: 'core is framework-free' },
    { name: 'react-dom', message: 'core is framework-free' },
    { name: 'zustand', message: 'core is framework-free' },
    { name: 'comlink', message: 'core is transport-free' },
    { name: 'webgpu', message: 'core is GPU-free' },
    { name: 'fs', message: 'core reads through ByteSource' },
    { name: 'node:fs', message: 'core reads through ByteSource' },
    { name: 'node:fs/promises', message: 'core reads through ByteSource' },
  ],
  patterns: [
    {
      group: ['**/engine/**', '**/workers/**', '**/state/**', '**/ui/**', '**/cli/**', 'd3*', 'react-dom/*'],
      message: 'core imports nothing of the layers above it',
    },
  ],
};

// Browser globals that core must not touch (it runs in Node and workers).
const domGlobals = [
  'window',
  'document',
  'navigator',
  'localStorage',
  'indexedDB',
  'HTMLElement',
  'GPUDevice',
  'GPUBuffer',
  'File',
  'FileReader',
  'Blob',
].map((name) => ({
  name,
  message: 'core must not use DOM or GPU globals',
}));

export default tseslint.config(
  { ignores: ['dist/**', 'dist-cli/**', 'node_modules/**', 'public/**', 'test-results/**', 'playwright-report/**', '.dev/**', '.tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // A promise nobody awaits fails silently: an unawaited Playwright expect asserts nothing, an unawaited
  // write loses its error. These rules need the type checker, so the TypeScript sources get a program.
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  // Plain JavaScript (this file, bin/, scripts) is outside the TypeScript program: linted without types.
  { files: ['**/*.js', '**/*.mjs', '**/*.cjs'], ...tseslint.configs.disableTypeChecked },
  {
    files: ['src/core/**/*.ts', 'src/engine/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'error' },
  },
  {
    files: ['src/core/**/*.ts'],
    // tests beside the code may read fixtures from disk; the code itself may not
    ignores: ['src/core/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', coreRestrictions],
      'no-restricted-globals': ['error', ...domGlobals],
    },
  },
  {
    files: ['src/ui/**/*.tsx', 'src/ui/**/*.ts'],
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'warn' },
  },
);
