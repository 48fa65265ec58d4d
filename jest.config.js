/**
 * Jest runs the TypeScript ESM sources directly through @swc/jest (ky and file-type are ESM-only). Five projects,
 * which `npm test` runs together; `npm test -- --selectProjects unit` runs one:
 * - unit: step cores, shared modules, the ASL, the CLI's AWS side (aws-sdk-client-mock at the AWS boundary);
 * - integration: real HTTP against the sandbox Zendesk, fauxqs and dynalite;
 * - e2e: the unchanged ASL in the local engine end to end, the fault suite, the leak test, the CLI as a process;
 * - infra: the synthesized CDK template, cdk-nag and the bundles;
 * - deployed: the synthesized artifacts run as Lambda would run them (each bundle in its own process under a Lambda
 *   runtime), driven by the rendered definition, every AWS call checked against the template's IAM (docs/deployed.md).
 */
const swc = [
  '@swc/jest',
  {
    jsc: { parser: { syntax: 'typescript' }, target: 'es2023' },
    module: { type: 'es6' },
  },
];

const shared = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  setupFiles: ['<rootDir>/test/support/setup-env.ts'],
};

const project = (displayName, testMatch) => ({ ...shared, displayName, testMatch });

export default {
  projects: [
    project('unit', ['<rootDir>/test/unit/**/*.test.ts']),
    project('integration', ['<rootDir>/test/integration/**/*.test.ts']),
    project('e2e', ['<rootDir>/test/e2e/**/*.test.ts', '<rootDir>/test/faults/**/*.test.ts', '<rootDir>/test/security/**/*.test.ts']),
    project('infra', ['<rootDir>/test/infra/**/*.test.ts']),
    project('deployed', ['<rootDir>/test/deployed/**/*.test.ts']),
  ],
  testTimeout: 60_000,
  maxWorkers: 2,
  // A leaked server handle must never hang CI; each suite still closes what it opens.
  forceExit: true,
};
