/**
 * One vocabulary: every name the ASL retries or catches is an error of lambdas/shared/errors.ts or an AWS-defined name,
 * every Task matches only what its step can raise, and every retryable error a step can raise is retried there.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import type { StepErrors } from '../../../lambdas/shared/errors.js';
import { ASL_PATH } from '../../../local/runtime/definition.js';
import { stepErrorsOfState } from '../../support/step-errors.js';
import { vocabularyProblems, type AslState } from '../../support/vocabulary.js';

const asl = (): { States: Record<string, AslState> } => JSON.parse(readFileSync(ASL_PATH, 'utf8'));
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
