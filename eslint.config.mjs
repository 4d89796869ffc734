// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

/**
 * The layers, as checked rules (docs/ARCHITECTURE.md): each entry names a layer and what it must never import.
 * Domain sees only ports and domain; adapters see ports and domain; handlers never see composition or adapters;
 * only composition roots and the CLI wire adapters together; nothing imports the entry points.
 */
const LAYERS = [
  {
    target: './shared/domain',
    from: [
      './shared/adapters',
      './shared/handlers',
      './shared/composition',
      './shared/api',
      './shared/cli',
      './shared/config.ts',
      './functions',
    ],
    message: 'domain imports only ports and domain',
  },
  {
    target: './shared/ports',
    from: [
      './shared/domain',
      './shared/adapters',
      './shared/handlers',
      './shared/composition',
      './shared/api',
      './shared/cli',
      './shared/config.ts',
      './functions',
    ],
    message: 'ports import only ports',
  },
  {
    target: './shared/adapters',
    from: [
      './shared/handlers',
      './shared/composition',
      './shared/api',
      './shared/cli',
      './shared/config.ts',
      './functions',
    ],
    message: 'adapters import only ports, domain and other adapters',
  },
  {
    target: './shared/handlers',
    from: ['./shared/adapters', './shared/composition', './shared/api', './shared/cli', './functions'],
    message: 'handlers never import composition or adapters: a composition root passes them what they use',
  },
  {
    target: './shared/api',
    from: ['./shared/adapters', './shared/composition', './shared/cli', './functions'],
    message: 'the api never imports composition or adapters',
  },
  {
    target: './shared/config.ts',
    from: [
      './shared/adapters',
      './shared/handlers',
      './shared/composition',
      './shared/api',
      './shared/cli',
      './functions',
    ],
    message: 'configuration imports only domain and ports',
  },
  {
    target: './shared/composition',
    from: ['./shared/cli', './functions'],
    message: 'composition roots never import the entry points',
  },
];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'dist-dev/**',
      'coverage/**',
      'node_modules/**',
      '.gcs-export/**',
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
      'import-x/no-restricted-paths': [
        'error',
        { basePath: import.meta.dirname, zones: LAYERS.map((layer) => ({ ...layer })) },
      ],
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
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  prettier,
);
