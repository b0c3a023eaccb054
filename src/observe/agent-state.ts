// Per-agent state for po status: what tmux knows (live or dead from the pane's process, silent
// since the session's last activity) and, when the harness has a `status` argv, what the harness
// knows (one JSON line per agent: agent, state, since, detail). The harness runs in bounded
// parallel for the projects shown; po plan never runs it.
import type { ActualProject, DesiredProject } from "../../reconcile/model.js";
import { mapLimit } from "../../reconcile/limit.js";
import { runHarness } from "../adapters/harness-run.js";
import type { SessionInfo } from "../adapters/tmux.js";

export interface AgentState {
  agent: string;
  session: string;
  live: boolean;
  /** seconds since the session last printed or was typed into, when live */
  silent_s?: number;
  /** the harness's word for it (unknown states are kept as given) */
  state?: string;
  since?: string;
  detail?: string;
  restarts?: number;
}

export interface ProjectAgents {
  agents: AgentState[];
  /** what went wrong asking the harness: a failed status, malformed lines */
  notes: string[];
}

interface HarnessLine {
  state: string;
  since?: string;
  detail?: string;
  restarts?: number;
}

/** The harness `status` output: one JSON object per line; a malformed line is skipped with a note. */
export function parseStatusLines(stdout: string): { lines: Map<string, HarnessLine>; notes: string[] } {
  const lines = new Map<string, HarnessLine>();
  const notes: string[] = [];
  stdout.split("\n").forEach((text, i) => {
    if (!text.trim()) return;
    let v: Record<string, unknown> | undefined;
    try {
      v = JSON.parse(text) as Record<string, unknown>;
    } catch {
      v = undefined;
    }
    if (!v || typeof v !== "object" || typeof v.agent !== "string" || typeof v.state !== "string") {
      notes.push(`harness status line ${i + 1} ignored (not {"agent": …, "state": …}): ${text.slice(0, 80)}`);
      return;
    }
    const opt = <T>(k: string, type: string) => (typeof v![k] === type ? { [k]: v![k] as T } : {});
    lines.set(v.agent, {
      state: v.state,
      ...opt("since", "string"),
      ...opt("detail", "string"),
      ...opt("restarts", "number"),
    });
  });
  return { lines, notes };
}

async function harnessLines(p: DesiredProject): Promise<{ lines: Map<string, HarnessLine>; notes: string[] }> {
  try {
    return parseStatusLines((await runHarness(p.harness, "status", p.location)).stdout);
  } catch (e) {
    return { lines: new Map(), notes: [(e as Error).message] };
  }
}

export interface AgentStateOptions {
  /** run the harnesses' status argv (false: --no-harness, what tmux knows only) */
  harness: boolean;
  concurrency?: number;
  now?: number;
}

/** Each project's agents, by project name. */
export async function agentStates(
  projects: { desired: DesiredProject; actual: ActualProject }[],
  sessions: Map<string, SessionInfo>,
  opts: AgentStateOptions,
): Promise<Map<string, ProjectAgents>> {
  const now = opts.now ?? Date.now();
  const rows = await mapLimit(projects, opts.concurrency ?? 8, async ({ desired: p, actual: a }) => {
    const asked = opts.harness && p.harness.status && a.exists && a.agents.length > 0;
    const { lines, notes } = asked ? await harnessLines(p) : { lines: new Map<string, HarnessLine>(), notes: [] };
    const agents = a.agents.map((agent, i): AgentState => {
      const s = sessions.get(a.sessions[i]);
      const live = Boolean(s?.live);
      const silent = s && live ? { silent_s: Math.max(0, Math.round((now - s.activity) / 1000)) } : {};
      return { agent, session: a.sessions[i], live, ...silent, ...lines.get(agent) };
    });
    return [p.name, { agents, notes }] as const;
  });
  return new Map(rows);
}

/** An agent that needs the operator: an enabled project's agent that is dead or failed. */
export function agentTrouble(enabled: boolean, agents: AgentState[]): boolean {
  return enabled && agents.some((x) => !x.live || x.state === "failed");
}
