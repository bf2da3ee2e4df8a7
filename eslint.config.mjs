// Lint configuration: typescript-eslint's recommended rules, plus the import boundaries of
// ../shared/docs/architecture.md (src/core imports nothing outside itself; webviews import protocol only).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cache/**', 'runs/**', 'test-results/**', 'media/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
      'no-eval': 'error',
      'no-implied-eval': 'error',
    },
  },
  {
    files: ['scripts/**/*.mjs', 'eslint.config.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['node:*', 'fs', 'path', 'os', 'child_process'], message: 'src/core is pure: no I/O.' },
        { group: ['vscode', '@tensorflow/*', 'onnxruntime-*'], message: 'src/core is pure maths.' },
        { group: ['../protocol/*', '../trainer/*', '../extension/*', '../cli/*', '../../*'], message: 'src/core imports nothing outside src/core.' },
      ] }],
    },
  },
  {
    files: ['src/protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['node:*', 'vscode', '@tensorflow/*', 'onnxruntime-*'], message: 'src/protocol is shared with webviews: no Node or VS Code APIs.' },
        { group: ['../trainer/*', '../extension/*', '../cli/*'], message: 'src/protocol may import src/core types only.' },
      ] }],
    },
  },
  {
    files: ['src/node/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['vscode', '@tensorflow/*', 'onnxruntime-*'], message: 'src/node is plain Node, shared by the trainer, the CLI and the host.' },
        { group: ['../trainer/*', '../extension/*', '../cli/*'], message: 'src/node imports src/core and src/protocol only.' },
      ] }],
    },
  },
  {
    files: ['src/extension/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['@tensorflow/*', 'onnxruntime-*'], message: 'The host never loads ML runtimes: it starts the trainer bundle.' },
        { group: ['../trainer/*', '../cli/*'], message: 'The host talks to the trainer through src/protocol only.' },
      ] }],
    },
  },
  {
    files: ['webview/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['node:*', 'vscode', '@tensorflow/*', 'onnxruntime-*'], message: 'Webviews are browser code.' },
        { group: ['../../src/trainer/*', '../../src/extension/*', '../../src/cli/*'], message: 'Webviews import src/protocol (and core display maths) only.' },
      ] }],
    },
  },
);
