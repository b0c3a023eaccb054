// po agents report: what an agent says of itself, for its own hooks (e.g. Claude Code's
// Notification hook runs `po agents report main waiting`). One small file per agent under
// .ao-state/reports/, written atomically; `waiting` is told to the watchdog's notify.
import { basename, join } from "node:path";
import { requireAgents } from "../registry/agents-file.js";
import { UserError } from "../common/problems.js";
import { notify } from "../common/notify.js";
import { readJson } from "../state/state.js";
import { writePrivate } from "../state/private.js";
import { statePaths } from "./session.js";

export const STATES = ["starting", "working", "waiting", "idle", "failed", "stopped"] as const;

export interface Report {
  state: string;
  since: string;
  detail?: string;
}

const reportFile = (dir: string, agent: string) => join(statePaths(dir).reports, `${agent}.json`);

export function readReport(dir: string, agent: string): Report | undefined {
  return readJson<Report | undefined>(reportFile(dir, agent), undefined);
}

export interface ReportResult extends Report {
  agent: string;
  /** why notify failed, when it did */
  notifyProblem?: string;
}

export async function report(dir: string, agent: string, state: string, detail?: string): Promise<ReportResult> {
  const config = await requireAgents(dir);
  if (!config.agents.some((a) => a.name === agent))
    throw new UserError(
      `agents report: no agent '${agent}' in ${config.file} (${config.agents.map((a) => a.name).join(", ") || "none"})`,
    );
  if (!(STATES as readonly string[]).includes(state))
    throw new UserError(`agents report: unknown state '${state}'; say one of ${STATES.join(", ")}`);
  const previous = readReport(dir, agent);
  // The same state again keeps its since: "waiting since" means since it began waiting.
  const since = previous?.state === state ? previous.since : new Date().toISOString();
  const rec: Report = { state, since, ...(detail ? { detail } : {}) };
  writePrivate(reportFile(dir, agent), `${JSON.stringify(rec)}\n`);
  if (state !== "waiting" || !config.notify) return { agent, ...rec };
  const event = { event: "agent.waiting" as const, project: basename(dir), agent, ...(detail ? { detail } : {}) };
  const notifyProblem = await notify(config.notify, event, dir);
  return { agent, ...rec, ...(notifyProblem ? { notifyProblem } : {}) };
}
