/**
 * The layering is a fact, not a convention: `npm run lint` refuses an import from lambdas/ into local/, cli/, bench/
 * or test/ (static or dynamic), and from local/ into cli/. Checked here through ESLint's own API on this repo's config.
 */
import { describe, expect, test } from '@jest/globals';
import { ESLint } from 'eslint';

const eslint = new ESLint({ cwd: process.cwd() });

async function ruleIds(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.map((m) => m.ruleId ?? m.message);
}

describe('import boundaries (eslint.config.js)', () => {
  test.each([
    ['lambdas/shared/probe.ts', "import { openLocal } from '../../local/runtime/local.js';\nexport const x = openLocal;\n"],
    ['lambdas/copy-attachment/probe.ts', "import { main } from '../../cli/main.js';\nexport const x = main;\n"],
    ['lambdas/notify/probe.ts', "import { FakeZendesk } from '../../test/support/fake-zendesk.js';\nexport const x = FakeZendesk;\n"],
    ['lambdas/notify/probe.ts', "export const x = () => import('../../bench/run.js');\n"],
    ['local/runtime/probe.ts', "import { main } from '../../cli/main.js';\nexport const x = main;\n"],
    ['soak/probe.ts', "import { openRig } from '../test/faults/harness.js';\nexport const x = openRig;\n"],
  ])('%s may not import upwards', async (file, code) => {
    expect(await ruleIds(file, code)).toEqual([expect.stringMatching(/^no-restricted-(imports|syntax)$/)]);
  });

  test('imports within lambdas/, and from cli/ into local/ and lambdas/, are fine', async () => {
    expect(await ruleIds('lambdas/notify/probe.ts', "import { logger } from '../shared/logger.js';\nexport const x = logger;\n")).toEqual([]);
    expect(await ruleIds('cli/probe.ts', "import { openLocal } from '../local/runtime/local.js';\nexport const x = openLocal;\n")).toEqual([]);
  });
});
