/**
 * The step handlers the local engine serves Tasks with, by lambdas/ folder. Static imports (lazily evaluated), so the
 * same table works under tsx, jest and the bundled CLI in dist/: no path is built at run time.
 */
export type StepHandler = (event: unknown, context: unknown) => Promise<unknown>;

export const STEP_HANDLERS: Record<string, () => Promise<{ handler: StepHandler }>> = {
  'mark-ticket': () => import('../../lambdas/mark-ticket/handler.js') as Promise<{ handler: StepHandler }>,
  'list-attachments': () => import('../../lambdas/list-attachments/handler.js') as Promise<{ handler: StepHandler }>,
  'copy-attachment': () => import('../../lambdas/copy-attachment/handler.js') as Promise<{ handler: StepHandler }>,
  'collect-copies': () => import('../../lambdas/collect-copies/handler.js') as Promise<{ handler: StepHandler }>,
  'redact-verified': () => import('../../lambdas/redact-verified/handler.js') as Promise<{ handler: StepHandler }>,
  'finish-ticket': () => import('../../lambdas/finish-ticket/handler.js') as Promise<{ handler: StepHandler }>,
  notify: () => import('../../lambdas/notify/handler.js') as Promise<{ handler: StepHandler }>,
  'look-up-ticket-run': () => import('../../lambdas/look-up-ticket-run/handler.js') as Promise<{ handler: StepHandler }>,
  'select-tickets': () => import('../../lambdas/select-tickets/handler.js') as Promise<{ handler: StepHandler }>,
  'summarize-backfill': () => import('../../lambdas/summarize-backfill/handler.js') as Promise<{ handler: StepHandler }>,
};

/** The handler of a lambdas/ folder; throws for a folder the local runtime does not serve. */
export async function loadStepHandler(folder: string): Promise<StepHandler> {
  const load = STEP_HANDLERS[folder];
  if (!load) throw new Error(`The local runtime has no handler for lambdas/${folder}`);
  return (await load()).handler;
}
