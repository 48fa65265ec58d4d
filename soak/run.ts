/**
 * `npm run soak -- [--tickets 300] [--seed S] [--fault-rate 0.15] [--concurrency 20] [--kills 5] [--sizes full|small]`
 *
 * The chaos soak (docs/faults.md#the-soak). Prints ONE JSON document on stdout (progress on stderr); exit 0 when every
 * invariant held, 1 when any count is not 0 (or not every file ended archived and redacted), 2 on a usage error.
 * Without --seed a random seed is drawn and printed in the document: pass it back to replay the run.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { runSoak, type SoakOptions } from './soak.js';

function usage(message: string): never {
  process.stderr.write(`${message}\nUsage: npm run soak -- [--tickets 300] [--seed S] [--fault-rate 0.15] [--concurrency 20] [--kills 5] [--sizes full|small]\n`);
  process.exit(2);
}

function integer(value: string | undefined, name: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) usage(`--${name} must be an integer from ${min} to ${max}`);
  return n;
}

let values;
try {
  ({ values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      tickets: { type: 'string', default: '300' },
      seed: { type: 'string' },
      'fault-rate': { type: 'string', default: '0.15' },
      concurrency: { type: 'string', default: '20' },
      kills: { type: 'string', default: '5' },
      sizes: { type: 'string', default: 'full' },
    },
    strict: true,
  }));
} catch (error) {
  usage((error as Error).message);
}
const faultRate = Number(values['fault-rate']);
if (!(faultRate >= 0 && faultRate <= 0.5)) usage('--fault-rate must be a number from 0 to 0.5');
if (values.sizes !== 'full' && values.sizes !== 'small') usage('--sizes must be full or small');
const options: SoakOptions = {
  tickets: integer(values.tickets, 'tickets', 1, 10_000),
  seed: values.seed ?? randomBytes(4).toString('hex'),
  faultRate,
  concurrency: integer(values.concurrency, 'concurrency', 1, 200),
  kills: integer(values.kills, 'kills', 0, 100),
  sizes: values.sizes,
  log: (line) => process.stderr.write(`${line}\n`),
};

const report = await runSoak(options);
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
if (!report.ok) process.stderr.write(`soak: INVARIANT BROKEN. Replay: npm run -s soak -- --seed ${report.seed} --tickets ${options.tickets} --fault-rate ${faultRate} --concurrency ${options.concurrency} --kills ${options.kills} --sizes ${options.sizes}\n`);
process.exitCode = report.ok ? 0 : 1;
