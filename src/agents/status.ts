// po agents status: per agent, live or dead (its pane's process), its state and since when, how
// long it has been silent, restarts, watch mode; and the watchdog. `--json` prints one line per
// agent in the harness `status` format (docs/harness-contract.md), so a harness built on po agents
// implements `status` by calling it.
import { requireAgents } from "../registry/agents-file.js";
import { readJson } from "../state/state.js";
import { sessionInfo, sessionName, type SessionInfo } from "../adapters/tmux.js";
import type { WatchdogState } from "./heal.js";
import { readReport } from "./report.js";
import { lastUp, statePaths } from "./session.js";
import { isOurWatchdog, readPid } from "./watchdog-process.js";

export function readState(dir: string): WatchdogState | undefined {
  return readJson<WatchdogState | undefined>(statePaths(dir).stateFile, undefined);
}

/** One agent, as a line of the harness `status` format plus what po agents knows besides. */
export interface AgentStatus {
  agent: string;
  state: string;
  since: string | null;
  detail?: string;
  session: string;
  watch: "heal" | "none";
  live: boolean;
  /** seconds since its session last printed or was typed into, when live */
  silent_s?: number;
  restarts: number;
  /** a crash-looping agent's next restart attempt */
  backoffUntil: string | null;
}

export interface StatusResult {
  dir: string;
  agents: AgentStatus[];
  watchdog: { pid: number | null; alive: boolean; lastCheck: string | null };
}

type Rec = WatchdogState["agents"][string] | undefined;
const iso = (ms: number) => new Date(ms).toISOString();

/** Its state: given up on by the watchdog, else what it reported during this session, else what tmux knows. */
function stateOf(dir: string, name: string, s: SessionInfo | undefined, rec: Rec, upAt: number) {
  if (rec?.failed && !(upAt > Date.parse(rec.failed.since))) {
    const exit = rec.failed.exitStatus === null ? "" : `exit status ${rec.failed.exitStatus}; `;
    const detail = `${exit}log ends: ${rec.failed.lastLines.join(" | ") || "(empty)"}`;
    return { state: "failed", since: rec.failed.since, detail };
  }
  if (!s?.live) {
    const backoff = rec?.nextAttempt ? `back-off until ${rec.nextAttempt}` : undefined;
    return { state: "stopped", since: rec?.deadSince ?? null, ...(backoff ? { detail: backoff } : {}) };
  }
  const report = readReport(dir, name);
  // a report from before this session started is about an earlier run (tmux counts whole seconds)
  if (report && Date.parse(report.since) >= s.created - 1000)
    return { state: report.state, since: report.since, ...(report.detail ? { detail: report.detail } : {}) };
  return { state: "running", since: iso(s.created), detail: "no report yet" };
}

export async function status(dir: string): Promise<StatusResult> {
  const config = await requireAgents(dir);
  const info = await sessionInfo();
  const state = readState(dir);
  const upAt = lastUp(dir);
  const now = Date.now();
  const agents = config.agents.map((a): AgentStatus => {
    const session = sessionName(dir, a.name);
    const s = info.get(session);
    const rec = state?.agents[a.name];
    return {
      agent: a.name,
      ...stateOf(dir, a.name, s, rec, upAt),
      session,
      watch: a.watch,
      live: Boolean(s?.live),
      ...(s?.live ? { silent_s: Math.max(0, Math.round((now - s.activity) / 1000)) } : {}),
      restarts: rec?.restarts ?? 0,
      backoffUntil: s?.live ? null : (rec?.nextAttempt ?? null),
    };
  });
  const pid = readPid(statePaths(dir).pidFile) ?? null;
  const alive = pid !== null && isOurWatchdog(pid, dir);
  return { dir, agents, watchdog: { pid, alive, lastCheck: alive ? (state?.lastCheck ?? null) : null } };
}
