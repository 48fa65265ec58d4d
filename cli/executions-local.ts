import { ExecutionHistory, type ExecutionRecord } from '../local/runtime/history.js';
import {
  detailsOf,
  ExecutionNotFound,
  nameOf,
  ticketIdOfInput,
  type ExecutionDetails,
  type ExecutionRow,
  type ListQuery,
} from './executions.js';

/** `executions list|show|redrive --local`: the local engine's saved histories (ExecutionHistory) in a directory. */

async function localRecord(historyDir: string, nameOrArn: string): Promise<ExecutionRecord> {
  const name = nameOf(nameOrArn);
  const record = await new ExecutionHistory(historyDir).get(name);
  if (!record) throw new ExecutionNotFound(`no local execution named ${name} in ${historyDir}`);
  return record;
}

export async function listLocalExecutions(historyDir: string, query: ListQuery): Promise<ExecutionRow[]> {
  const { status, since, limit } = query;
  const records = await new ExecutionHistory(historyDir).list();
  return records
    .filter((r) => !status || r.status === status)
    .filter((r) => since === undefined || Date.parse(r.startDate) >= since)
    .slice(0, limit)
    .map((r) => {
      const ticketId = ticketIdOfInput(r.input);
      return {
        name: r.executionName,
        executionArn: r.executionArn,
        status: r.status,
        startDate: r.startDate,
        ...(r.stopDate ? { stopDate: r.stopDate } : {}),
        ...(ticketId ? { ticketId } : {}),
      };
    });
}

export async function showLocalExecution(historyDir: string, nameOrArn: string): Promise<ExecutionDetails> {
  return detailsOf('local', await localRecord(historyDir, nameOrArn));
}
