/** The template asks for something the deployed harness does not run (it says so instead of guessing). */
export class HarnessConfigurationError extends Error {
  override readonly name = 'HarnessConfigurationError';
}
