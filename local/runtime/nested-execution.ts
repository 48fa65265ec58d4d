import { ExecutionAlreadyExists, type LocalEngine } from './engine.js';
import type { ExecutionRecord } from './history.js';

/**
 * The local adapter for `arn:aws:states:::states:startExecution.sync:2`, which aws-local-stepfunctions does not run
 * (it serves Lambda Tasks only): StartExecution on the per-ticket engine under the Task's Name and Input, then the
 * child's end, as Step Functions reports it [connect-stepfunctions]:
 * - SUCCEEDED: the Task's result is the child's DescribeExecution with `Input` and `Output` as JSON (the `:2` form);
 * - FAILED, TIMED_OUT, ABORTED: the Task fails with `States.TaskFailed`, its cause the same description as a string;
 * - a name already used by a closed execution (or by an open one with another input): the Task fails with
 *   `StepFunctions.ExecutionAlreadyExistsException`. The same name and input while it runs joins that execution.
 * The per-ticket engine runs the child as any other execution: its own history, limits and `executions list/show`.
 */

export const START_EXECUTION_SYNC = 'arn:aws:states:::states:startExecution.sync:2';

/** A Step Functions error as the .sync integration raises it (the Task's error name); never retried by the engine. */
export class StepFunctionsError extends Error {
  constructor(
    override readonly name: string,
    message: string,
  ) {
    super(message);
  }
  readonly isRetryable = false;
}

function describe(record: ExecutionRecord): Record<string, unknown> {
  return {
    ExecutionArn: record.executionArn,
    Name: record.executionName,
    StateMachineArn: record.stateMachineArn,
    Status: record.status,
    StartDate: record.startDate,
    ...(record.stopDate ? { StopDate: record.stopDate } : {}),
    Input: record.input,
    InputDetails: { Included: true },
    ...(record.status === 'SUCCEEDED' ? { Output: record.output ?? null, OutputDetails: { Included: true } } : { Error: record.error ?? 'States.Runtime', Cause: record.cause ?? '' }),
  };
}

export function startExecutionSync(engine: LocalEngine): (input: unknown) => Promise<unknown> {
  return async (input: unknown) => {
    const { Name, Input } = (input ?? {}) as { StateMachineArn?: string; Name?: unknown; Input?: unknown };
    if (typeof Name !== 'string') throw new StepFunctionsError('StepFunctions.InvalidNameException', 'Name is required');
    let done: Promise<ExecutionRecord>;
    try {
      ({ done } = await engine.start(Input as never, Name));
    } catch (error) {
      if (error instanceof ExecutionAlreadyExists) throw new StepFunctionsError('StepFunctions.ExecutionAlreadyExistsException', `Execution Already Exists: '${Name}'`);
      throw error;
    }
    const record = await done;
    if (record.status === 'SUCCEEDED') return describe(record);
    throw new StepFunctionsError('States.TaskFailed', JSON.stringify(describe(record)));
  };
}
