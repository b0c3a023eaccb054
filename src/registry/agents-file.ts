// agents.toml: load and normalize the agents of one project (or of this orchestrator).
import { join, resolve } from "node:path";
import type { Agents } from "./generated/agents.js";
import { loadToml } from "./load-toml.js";
import { problemsError, type Problem } from "../common/problems.js";

export const AGENTS_FILE = "agents.toml";

export interface AgentSpec {
  name: string;
  command: string[];
  /** absolute path of the prompt file, when the agent has one */
  prompt?: string;
  watch: "heal" | "none";
}

export interface AgentsConfig {
  file: string;
  intervalS: number;
  /** the watchdog gives up on an agent that dies again after this many restarts within the window */
  maxRestarts: number;
  restartWindowS: number;
  /** argv run once per event (agent.failed, agent.waiting), the event as JSON on stdin */
  notify?: string[];
  agents: AgentSpec[];
}

export function normalizeAgents(raw: Agents, file: string, dir: string): AgentsConfig {
  const agents = Object.entries(raw.agents ?? {}).map(([name, a]) => ({
    name,
    command: a.command,
    ...(a.prompt !== undefined ? { prompt: resolve(dir, a.prompt) } : {}),
    watch: a.watch ?? "none",
  }));
  const w = raw.watchdog;
  return {
    file,
    intervalS: w?.interval_s ?? 30,
    maxRestarts: w?.max_restarts ?? 5,
    restartWindowS: w?.restart_window_s ?? 600,
    ...(w?.notify ? { notify: w.notify } : {}),
    agents,
  };
}

/** The agents of the project in `dir`, or its problems. A missing file is a problem. */
export async function loadAgents(
  dir: string,
  file = join(dir, AGENTS_FILE),
): Promise<{ config?: AgentsConfig; problems: Problem[] }> {
  const loaded = await loadToml(file, "agents");
  if (loaded.problems.length || !loaded.data) return { problems: loaded.problems };
  return { config: normalizeAgents(loaded.data as Agents, file, dir), problems: [] };
}

export async function requireAgents(dir: string, file?: string): Promise<AgentsConfig> {
  const { config, problems } = await loadAgents(dir, file);
  if (!config) throw problemsError(problems);
  return config;
}
