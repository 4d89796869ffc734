// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

/**
 * The layers, as checked rules (docs/ARCHITECTURE.md, "Layers"): each layer names what it may import besides itself;
 * every other layer is forbidden to it. Domain sees only ports; adapters see ports and domain; handlers never see
 * composition or adapters; only composition roots and the CLI wire adapters together; nothing imports the entry
 * points. Together with import-x/no-cycle, `npm test` fails on a wrong arrow or a cycle.
 */
const LAYERS = {
  domain: { path: './shared/domain', mayImport: ['ports'] },
  ports: { path: './shared/ports', mayImport: [] },
  adapters: { path: './shared/adapters', mayImport: ['ports', 'domain'] },
  handlers: { path: './shared/handlers', mayImport: ['domain', 'ports'] },
  api: { path: './shared/api', mayImport: ['handlers', 'domain', 'ports'] },
  config: { path: './shared/config.ts', mayImport: ['domain', 'ports'] },
  composition: {
    path: './shared/composition',
    mayImport: ['config', 'api', 'handlers', 'adapters', 'domain', 'ports'],
  },
  cli: {
    path: './shared/cli',
    mayImport: ['composition', 'config', 'api', 'handlers', 'adapters', 'domain', 'ports'],
  },
  functions: {
    path: './functions',
    mayImport: ['composition', 'config', 'api', 'handlers', 'adapters', 'domain', 'ports'],
  },
};

const layerZones = Object.entries(LAYERS).map(([name, layer]) => ({
  target: layer.path,
  from: Object.entries(LAYERS)
    .filter(([other]) => other !== name && !layer.mayImport.includes(other))
    .map(([, other]) => other.path),
  message: `${name} may import only ${[name, ...layer.mayImport].join(', ')}`,
}));

/** Every lifecycle state of an export, run or chunk (shared/domain/lifecycle/transitions.ts), as a regex. */
const LIFECYCLE_STATES =
  '/^(received|planning|running|blocked|succeeded|failed|held|pending|done|active|stopped|healthy|failing)$/';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'dist-dev/**',
      'coverage/**',
      'node_modules/**',
      '.gcs-export/**',
      '.bundle/**',
      '*.config.js',
      '*.config.mjs',
    ],
  },
  eslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/extensions': ['.ts', '.js'],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': ['error', { basePath: import.meta.dirname, zones: layerZones }],
    },
  },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Domain code must stay pure: no cloud SDKs (docs/ARCHITECTURE.md).
    files: ['shared/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@google-cloud/*', '@sendgrid/*'], message: 'Domain code never imports a cloud SDK.' },
            { group: ['**/adapters/**'], message: 'Domain code never imports an adapter.' },
          ],
        },
      ],
    },
  },
  {
    // State has one owner (docs/ARCHITECTURE.md, "Lifecycle"): the status of an export, run or chunk is written only
    // by shared/domain/lifecycle/write.ts, by a transition its table allows. Elsewhere a status literal in an object,
    // or a status field in a document write, is an error.
    files: ['shared/**/*.ts', 'functions/**/*.ts'],
    ignores: ['shared/domain/lifecycle/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: `Property[key.name=/^(status|state)$/] > Literal[value=${LIFECYCLE_STATES}]`,
          message:
            'Statuses are written by shared/domain/lifecycle/write.ts through a transition of its table.',
        },
        {
          selector:
            'CallExpression[callee.property.name=/^(set|update|create)$/] ObjectExpression > Property[key.name=/^(status|state|stoppedAt)$/]',
          message:
            'Statuses are written by shared/domain/lifecycle/write.ts through a transition of its table.',
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  prettier,
);
