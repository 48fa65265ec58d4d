import tseslint from 'typescript-eslint';

/** Where code may reach: lambdas/ is the bottom layer and never imports the local runtime, the CLI, benches or tests. */
const OUTSIDE_LAMBDAS = ['**/local/**', '**/cli/**', '**/bench/**', '**/test/**', 'local/**', 'cli/**', 'bench/**', 'test/**'];

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', '.local/', 'coverage/', 'dist/'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['lambdas/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: OUTSIDE_LAMBDAS, message: 'lambdas/ is deployed on its own: it must not import local/, cli/, bench/ or test/.' }] },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: 'ImportExpression[source.value=/(^|\\/)(local|cli|bench|test)\\//]', message: 'lambdas/ must not import local/, cli/, bench/ or test/ (dynamic import).' },
      ],
    },
  },
  {
    files: ['local/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/cli/**', '**/bench/**', '**/test/**'], message: 'local/ (runtime, sandbox, faults) must not import cli/, bench/ or test/.' }] },
      ],
    },
  },
  {
    // The soak is a script (npm run soak): it may use local/ and cli/, never the test suite.
    files: ['soak/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/test/**', '**/bench/**'], message: 'soak/ (npm run soak) must not import test/ or bench/: move what both need into soak/ or local/.' }] },
      ],
    },
  },
  {
    // Product code stays in small functions a newcomer can read at once.
    files: ['lambdas/**/*.ts', 'local/**/*.ts', 'cli/**/*.ts', 'infra/**/*.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true, IIFEs: true }] },
  },
);
