/**
 * One vocabulary: every name the ASL retries or catches is an error of lambdas/shared/errors.ts or an AWS-defined name,
 * every Task matches only what its step can raise, and every retryable error a step can raise is retried there.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import type { StepErrors } from '../../../lambdas/shared/errors.js';
import { ASL_PATH, BACKFILL_ASL_PATH } from '../../../local/runtime/definition.js';
import { stepErrorsOfState } from '../../support/step-errors.js';
import { vocabularyProblems, type AslState } from '../../support/vocabulary.js';

const asl = (): { States: Record<string, AslState> } => JSON.parse(readFileSync(ASL_PATH, 'utf8'));
const backfill = (): { States: Record<string, AslState> } => JSON.parse(readFileSync(BACKFILL_ASL_PATH, 'utf8'));
const runTicket = (states: Record<string, AslState>): AslState => states.BackfillTickets!.ItemProcessor!.States.RunTicket!;
const errorsOf = (_task: string, state: AslState): StepErrors | undefined => stepErrorsOfState(state);

function mutate(change: (states: Record<string, AslState>) => void): Record<string, AslState> {
  const { States } = asl();
  change(States);
  return States;
}

describe('the ASL speaks the vocabulary of lambdas/shared/errors.ts', () => {
  test('no problem in statemachine/attachment-vault.asl.json', () => {
    expect(vocabularyProblems(asl().States, errorsOf)).toEqual([]);
  });

  test('a misspelled name is reported', () => {
    const states = mutate((s) => s.MarkTicket!.Retry![2]!.ErrorEquals.push('ZendeskUnavailble'));
    expect(vocabularyProblems(states, errorsOf)).toEqual(expect.arrayContaining([expect.stringContaining('"ZendeskUnavailble" is neither in lambdas/shared/errors.ts')]));
  });

  test('a retrier for an error the step cannot raise is reported (MarkTicket never touches S3)', () => {
    const states = mutate((s) => s.MarkTicket!.Retry![2]!.ErrorEquals.push('ArchiveUnavailable'));
    expect(vocabularyProblems(states, errorsOf)).toEqual(['MarkTicket: matches ArchiveUnavailable, which it cannot raise']);
  });

  test('a retryable error left unretried is reported (a Secrets Manager throttle would fail the run)', () => {
    const states = mutate((s) => {
      const transient = s.ListAttachments!.Retry![2]!;
      transient.ErrorEquals = transient.ErrorEquals.filter((e) => e !== 'SecretUnavailable');
    });
    expect(vocabularyProblems(states, errorsOf)).toEqual(['ListAttachments: can raise the retryable SecretUnavailable but does not retry it']);
  });

  test('retrying a permanent error is reported', () => {
    const states = mutate((s) => s.FinishTicket!.Retry![2]!.ErrorEquals.push('TicketNotFound'));
    expect(vocabularyProblems(states, errorsOf)).toEqual(['FinishTicket: retries TicketNotFound, which is permanent']);
  });

  test('a Task without Lambda service retries is reported', () => {
    const states = mutate((s) => (s.Notify!.Retry = []));
    expect(vocabularyProblems(states, errorsOf)).toHaveLength(5);
  });
});

describe('the backfill ASL speaks it too', () => {
  test('no problem in statemachine/backfill.asl.json (its Lambda steps and the startExecution.sync:2 integration)', () => {
    expect(vocabularyProblems(backfill().States, errorsOf)).toEqual([]);
  });

  test('every Task is checked: the three steps against their errors.ts, RunTicket against the integration', () => {
    const { States } = backfill();
    for (const name of ['SelectTickets', 'SummarizeBackfill']) expect(errorsOf(name, States[name]!)).toBeDefined();
    expect(errorsOf('LookUpTicketRun', States.BackfillTickets!.ItemProcessor!.States.LookUpTicketRun!)).toBeDefined();
    const states = backfill().States;
    runTicket(states).Catch![0]!.ErrorEquals.push('StepFunctions.ExecutionAlreadyExist');
    expect(vocabularyProblems(states, errorsOf)).toEqual([expect.stringContaining('"StepFunctions.ExecutionAlreadyExist" is neither'), expect.stringContaining('RunTicket: matches StepFunctions.ExecutionAlreadyExist')]);
  });

  test('the request budget failing SelectTickets must be retried (StateStoreUnavailable)', () => {
    const states = backfill().States;
    for (const retrier of states.SelectTickets!.Retry!) retrier.ErrorEquals = retrier.ErrorEquals.filter((e) => e !== 'StateStoreUnavailable');
    expect(vocabularyProblems(states, errorsOf)).toEqual(['SelectTickets: can raise the retryable StateStoreUnavailable but does not retry it']);
  });

  test('a throttled StartExecution left unretried, or a taken name retried, is reported', () => {
    const states = backfill().States;
    const retrier = runTicket(states).Retry![0]!;
    retrier.ErrorEquals = [...retrier.ErrorEquals.filter((e) => e !== 'StepFunctions.ThrottlingException'), 'StepFunctions.ExecutionAlreadyExistsException'];
    expect(vocabularyProblems(states, errorsOf).sort()).toEqual([
      'RunTicket: can raise the retryable StepFunctions.ThrottlingException but does not retry it',
      'RunTicket: retries StepFunctions.ExecutionAlreadyExistsException, which is permanent',
    ]);
  });

  test('SelectTickets never raises SearchCursorExpired: matching it is reported', () => {
    const states = backfill().States;
    states.SelectTickets!.Retry![2]!.ErrorEquals.push('SearchCursorExpired');
    expect(vocabularyProblems(states, errorsOf)).toEqual(['SelectTickets: matches SearchCursorExpired, which it cannot raise']);
  });
});
