import { BACKFILL_ASL_PATH, LOCAL_BACKFILL_STATE_MACHINE_ARN, readAsl } from './definition.js';
import { LocalEngine, type LocalEngineOptions } from './engine.js';
import { START_EXECUTION_SYNC, startExecutionSync } from './nested-execution.js';

/**
 * The backfill's state machine (statemachine/backfill.asl.json, unchanged) in the local engine, beside the per-ticket
 * one: its Distributed Map runs through the Map Run adapter, and its children start executions of `ticketEngine`
 * (nested-execution.ts), which keep their own histories in the same folder, so `executions list/show` see both.
 */
export function openBackfillEngine(ticketEngine: LocalEngine, options: Omit<LocalEngineOptions, 'definition' | 'stateMachineArn' | 'integrations'>): Promise<LocalEngine> {
  return LocalEngine.create({
    ...options,
    definition: readAsl(BACKFILL_ASL_PATH),
    stateMachineArn: LOCAL_BACKFILL_STATE_MACHINE_ARN,
    integrations: { [START_EXECUTION_SYNC]: startExecutionSync(ticketEngine) },
  });
}
