// Flat ESLint config: typescript-eslint with type information, so promise misuse is caught.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'reports/**', 'k8s-tests/k6/**', 'charts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // The reservation service's domain knows no framework, driver or telemetry library: entry
    // points and adapters translate (services/reservation/src/domain/boundary.test.ts plants an
    // import to prove this block fails).
    files: ['services/reservation/src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['express', 'ioredis', 'pg', 'prom-client', 'pino'].map((name) => ({
            name,
            message: 'domain/ talks to the outside through ports (model.ts), not libraries',
          })),
          patterns: [
            {
              group: ['@nats-io/*', 'pino/*', 'pg/*', 'express/*', 'prom-client/*'],
              message: 'domain/ talks to the outside through ports (model.ts), not libraries',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
