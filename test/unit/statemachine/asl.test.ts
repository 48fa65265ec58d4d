import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { ASL_PATH, BACKFILL_ASL_PATH, localSubstitutions, placeholdersOf, substitute, taskStates } from '../../../local/runtime/definition.js';

const require = createRequire(import.meta.url);
const aslValidator = require('asl-validator') as (definition: unknown, options?: unknown) => { isValid: boolean; errorsText: (sep?: string) => string };

const text = readFileSync(ASL_PATH, 'utf8');
const raw = JSON.parse(text) as { StartAt: string; States: Record<string, State> };

interface State {
  Type: string;
  Next?: string;
  Default?: string;
  End?: boolean;
  Resource?: string;
  TimeoutSeconds?: number;
  Retry?: Array<{ ErrorEquals: string[]; JitterStrategy?: string; MaxDelaySeconds?: number; MaxAttempts?: number }>;
  Catch?: Array<{ ErrorEquals: string[]; Next: string; ResultPath?: string }>;
  Choices?: Array<{ Next: string; Variable?: string; IsPresent?: boolean; NumericGreaterThanEquals?: number; NumericGreaterThanEqualsPath?: string }>;
  Result?: unknown;
  SecondsPath?: string;
  Parameters?: Record<string, unknown>;
  ItemProcessor?: { StartAt: string; States: Record<string, State> };
  QueryLanguage?: string;
}

function allStates(states: Record<string, State>): Array<[string, State, Record<string, State>]> {
  return Object.entries(states).flatMap(([name, state]) => [
    [name, state, states] as [string, State, Record<string, State>],
    ...(state.ItemProcessor ? allStates(state.ItemProcessor.States) : []),
  ]);
}

describe('statemachine/attachment-vault.asl.json', () => {
  test('is valid ASL for asl-validator, as written (with placeholders) and as the local runtime substitutes it', () => {
    // asl-validator mutates what it validates (it adds QueryLanguage): give it copies.
    const asWritten = aslValidator(structuredClone(raw), { checkArn: true, checkPaths: true });
    expect(asWritten.errorsText()).toBe('');
    expect(asWritten.isValid).toBe(true);
    const substituted = aslValidator(JSON.parse(substitute(text, localSubstitutions(text))), { checkArn: true, checkPaths: true });
    expect(substituted.errorsText()).toBe('');
    expect(substituted.isValid).toBe(true);
  });

  test('every ${...} placeholder is provided by the local runtime, and every Task resource is a placeholder', () => {
    const placeholders = placeholdersOf(text);
    expect(placeholders.length).toBeGreaterThan(0);
    const provided = localSubstitutions(text);
    expect(Object.keys(provided).sort()).toEqual([...placeholders].sort());
    for (const task of taskStates(raw as never)) expect(task.resource).toMatch(/^\$\{[A-Za-z]+FunctionArn\}$/);
    expect(() => substitute(text, provided)).not.toThrow();
    expect(substitute(text, provided)).not.toMatch(/\$\{/);
  });

  test('uses JSONPath only (the local engine ignores JSONata)', () => {
    expect(text).not.toMatch(/\{%|"Arguments"|"Output"|"Assign"|QueryLanguage/);
  });

  test('every Next, Default and Catch target names an existing state in its scope', () => {
    for (const [name, state, scope] of allStates(raw.States)) {
      const targets = [state.Next, state.Default, ...(state.Catch ?? []).map((c) => c.Next), ...(state.Choices ?? []).map((c) => c.Next)].filter(Boolean);
      for (const target of targets) expect({ name, target, exists: target! in scope }).toEqual({ name, target, exists: true });
    }
    expect(raw.States[raw.StartAt]).toBeDefined();
  });

  test('every Task has a TimeoutSeconds and retries Lambda service errors with full jitter', () => {
    const tasks = allStates(raw.States).filter(([, s]) => s.Type === 'Task');
    expect(tasks.map(([n]) => n).sort()).toEqual(['CollectCopies', 'CopyAttachment', 'CopyAttachmentAtScale', 'FinishTicket', 'ListAttachments', 'MarkTicket', 'Notify', 'RedactVerified']);
    for (const [name, task] of tasks) {
      expect({ name, timeout: typeof task.TimeoutSeconds }).toEqual({ name, timeout: 'number' });
      const lambdaRetry = task.Retry?.find((r) => r.ErrorEquals.includes('Lambda.ServiceException'));
      expect({ name, jitter: lambdaRetry?.JitterStrategy }).toEqual({ name, jitter: 'FULL' });
    }
  });

  test('the Map is inline, with its concurrency from the listing and a per-item Catch that records a failed file', () => {
    const map = raw.States.CopyAttachments as State & { MaxConcurrencyPath?: string; ItemProcessor: { ProcessorConfig: { Mode: string }; StartAt: string; States: Record<string, State> } };
    expect(map.Type).toBe('Map');
    expect(map.ItemProcessor.ProcessorConfig.Mode).toBe('INLINE');
    expect(map.MaxConcurrencyPath).toBe('$.listing.maxConcurrency');
    const copy = map.ItemProcessor.States.CopyAttachment!;
    expect(copy.Catch?.[0]?.Next).toBe('RecordCopyFailure');
    // Outages are not caught per item: the Map fails and Redrive re-runs only the failed iterations.
    expect(copy.Catch?.flatMap((c) => c.ErrorEquals)).not.toContain('States.ALL');
    expect(copy.Catch?.flatMap((c) => c.ErrorEquals)).not.toContain('ArchiveUnavailable');
  });

  test('contention (IdempotencyAlreadyInProgressError) has its own retrier where a step is idempotent, and transient errors retry 10 times', () => {
    const copy = (raw.States.CopyAttachments as State & { ItemProcessor: { States: Record<string, State> } }).ItemProcessor.States.CopyAttachment!;
    for (const [name, task] of [['CopyAttachment', copy], ['RedactVerified', raw.States.RedactVerified!]] as const) {
      const own = task.Retry?.filter((r) => r.ErrorEquals.includes('IdempotencyAlreadyInProgressError'));
      expect({ name, own: own?.map((r) => r.ErrorEquals) }).toEqual({ name, own: [['IdempotencyAlreadyInProgressError']] });
    }
    for (const [name, task] of allStates(raw.States).filter(([, s]) => s.Type === 'Task' && s.Retry?.some((r) => r.ErrorEquals.includes('ZendeskUnavailable')))) {
      const transient = task.Retry!.find((r) => r.ErrorEquals.includes('ZendeskUnavailable'))!;
      expect({ name, attempts: transient.MaxAttempts, jitter: transient.JitterStrategy }).toEqual({ name, attempts: 10, jitter: 'FULL' });
    }
  });

  test.each([
    ['MarkTicket', '$.mark', 'ListAttachments'],
    ['ListAttachments', '$.listing', 'CopyMode'],
    ['FinishTicket', '$.finish', 'Notify'],
  ])("%s honours a long Retry-After in the workflow: Choice on waitSeconds -> ledger -> Wait of exactly that -> the Task again", (task, result, next) => {
    const states = raw.States as Record<string, State & { InputPath?: string; ResultPath?: string }>;
    expect(states[task]!.Next).toBe(`${task}Outcome`);
    expect(states[task]!.Parameters).toMatchObject({ 'zendeskWaits.$': '$.zendeskWaits' });
    expect(states[`${task}Outcome`]!.Choices![0]).toEqual({ Variable: `${result}.waitSeconds`, IsPresent: true, Next: `Record${task}Wait` });
    expect(states[`${task}Outcome`]!.Default).toBe(next);
    expect(states[`Record${task}Wait`]).toMatchObject({ Type: 'Pass', InputPath: `${result}.zendeskWaits`, ResultPath: '$.zendeskWaits', Next: `WaitBefore${task}` });
    expect(states[`WaitBefore${task}`]).toMatchObject({ Type: 'Wait', SecondsPath: `${result}.waitSeconds`, Next: task });
  });

  test('every Map item carries the ledger, and a copy that asked to wait waits and copies again', () => {
    const map = raw.States.CopyAttachments as State & { ItemSelector: Record<string, string>; ItemProcessor: { States: Record<string, State> } };
    expect(map.ItemSelector['zendeskWaits.$']).toBe('$.zendeskWaits');
    expect(map.ItemProcessor.States.CopyAttachmentOutcome!.Choices).toEqual([{ Variable: '$.waitSeconds', IsPresent: true, Next: 'WaitBeforeCopyAttachment' }]);
    expect(map.ItemProcessor.States.WaitBeforeCopyAttachment).toMatchObject({ SecondsPath: '$.waitSeconds', Next: 'CopyAttachment' });
    expect(raw.States.Begin).toMatchObject({ Type: 'Pass', Result: { count: 0 }, ResultPath: '$.zendeskWaits' });
    expect(raw.StartAt).toBe('Begin');
  });

  test('a second execution of a running ticket ends at AlreadyRunning, naming the execution that holds it', () => {
    expect(raw.States.MarkTicketOutcome!.Choices).toContainEqual({ Variable: '$.mark.alreadyRunning', IsPresent: true, Next: 'AlreadyRunning' });
    expect(raw.States.AlreadyRunning).toMatchObject({ Type: 'Pass', End: true, Parameters: { outcome: 'already_running', 'runningExecution.$': '$.mark.alreadyRunning' } });
  });

  describe('a ticket of more files than fit the state: the Distributed Map', () => {
    type MapDef = State & Record<string, unknown> & { ItemSelector: unknown; ItemProcessor: { ProcessorConfig: unknown; StartAt: string; States: Record<string, State> } };
    const inline = raw.States.CopyAttachments as MapDef;
    const scaled = raw.States.CopyAttachmentsAtScale as MapDef;

    test('CopyMode sends a listing in S3 (manifest) to CopyAttachmentsAtScale, an inline one to CopyAttachments', () => {
      expect(raw.States.CopyMode).toMatchObject({ Type: 'Choice', Choices: [{ Variable: '$.listing.manifest', IsPresent: true, Next: 'CopyAttachmentsAtScale' }], Default: 'CopyAttachments' });
    });

    test('both Maps run the same iteration: the same ItemSelector and ItemProcessor, state names aside', () => {
      // State names are unique in a whole state machine, so the child's states carry an AtScale suffix.
      const unscaled = JSON.parse(JSON.stringify(scaled.ItemProcessor).replaceAll('AtScale', '')) as MapDef['ItemProcessor'];
      expect({ ...unscaled, ProcessorConfig: undefined }).toEqual({ ...inline.ItemProcessor, ProcessorConfig: undefined });
      expect(scaled.ItemSelector).toEqual(inline.ItemSelector);
      expect(scaled.MaxConcurrencyPath).toBe(inline.MaxConcurrencyPath);
      expect(inline.ItemProcessor.ProcessorConfig).toEqual({ Mode: 'INLINE' });
      expect(scaled.ItemProcessor.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' });
    });

    test('it reads the run\'s attachments.json and writes its results under runs/ of the archive bucket, tolerating no failure', () => {
      expect(scaled.ItemReader).toEqual({
        Resource: 'arn:aws:states:::s3:getObject',
        ReaderConfig: { InputType: 'JSON' },
        Parameters: { 'Bucket.$': '$.listing.manifest.bucket', 'Key.$': '$.listing.manifest.key' },
      });
      expect(scaled.ResultWriter).toEqual({ Resource: 'arn:aws:states:::s3:putObject', Parameters: { Bucket: '${ArchiveBucketName}', Prefix: 'runs/map-results' } });
      expect(scaled.ToleratedFailureCount ?? 0).toBe(0);
      expect(scaled.ToleratedFailurePercentage ?? 0).toBe(0);
    });

    test('both hand their results to CollectCopies, which alone feeds the redaction', () => {
      for (const map of [inline, scaled]) expect(map).toMatchObject({ ResultPath: '$.copied', Next: 'CollectCopies' });
      expect(raw.States.CollectCopies).toMatchObject({ Type: 'Task', ResultPath: '$.copies', Next: 'PrepareRedaction', Parameters: { 'listing.$': '$.listing', 'copied.$': '$.copied' } });
      expect(raw.States.PrepareRedaction!.Parameters).not.toHaveProperty('copied.$');
      expect(raw.States.PrepareRedaction!.Parameters).not.toHaveProperty('listing.$');
    });
  });

  test('no state carries a file name or content URL field', () => {
    expect(text).not.toMatch(/file_name|content_url|fileName|contentUrl/);
  });
});

describe('statemachine/backfill.asl.json', () => {
  const backfill = JSON.parse(readFileSync(BACKFILL_ASL_PATH, 'utf8')) as { StartAt: string; States: Record<string, State> };

  test('is valid ASL for asl-validator, as written', () => {
    const result = aslValidator(structuredClone(backfill), { checkArn: true, checkPaths: true });
    expect(result.errorsText('\n')).toBe('');
    expect(result.isValid).toBe(true);
  });

  test('every Task has a TimeoutSeconds (the local engine would end one without it at 60 s; a ticket may run for days)', () => {
    const tasks = allStates(backfill.States).filter(([, s]) => s.Type === 'Task');
    expect(tasks.map(([n]) => n).sort()).toEqual(['LookUpTicketRun', 'RunTicket', 'SelectTickets', 'SummarizeBackfill']);
    for (const [name, task] of tasks) expect({ name, timeout: typeof task.TimeoutSeconds }).toEqual({ name, timeout: 'number' });
    const runTicket = allStates(backfill.States).find(([n]) => n === 'RunTicket')![1];
    expect(runTicket.TimeoutSeconds).toBeGreaterThanOrEqual(7 * 86_400);
    // The local engine times a Task with a JavaScript timer, which fires at once past 2^31 - 1 ms.
    for (const [name, task] of tasks) expect({ name, fits: task.TimeoutSeconds! * 1000 <= 2 ** 31 - 1 }).toEqual({ name, fits: true });
  });
});
