// One agent of po agents: where its state and log live, and how its tmux session is started.
import { join } from "node:path";
import type { AgentSpec } from "../registry/agents-file.js";
import { newSession, sessionName } from "../adapters/tmux.js";
import { appendPrivate, privateDir } from "../state/private.js";

export function statePaths(dir: string) {
  const state = join(dir, ".ao-state");
  const logs = join(state, "logs");
  return {
    state,
    logs,
    pidFile: join(state, "watchdog.pid"),
    stateFile: join(state, "agents.json"),
    watchdogLog: join(logs, "watchdog.log"),
  };
}

export function agentLog(dir: string, agent: string): string {
  return join(statePaths(dir).logs, `${agent}.log`);
}

export function agentEnv(agent: AgentSpec): Record<string, string> {
  return { PO_AGENT: agent.name, ...(agent.prompt ? { PO_PROMPT_FILE: agent.prompt } : {}) };
}

/** Starts one agent's session (false when it is already there). `why` goes into its log. */
export async function startAgent(dir: string, agent: AgentSpec, why: string): Promise<boolean> {
  const log = agentLog(dir, agent.name);
  const paths = statePaths(dir);
  privateDir(paths.state);
  privateDir(paths.logs);
  appendPrivate(
    log,
    `\n--- ${new Date().toISOString()} po: starting ${agent.name} (${why}): ${agent.command.join(" ")}\n`,
  );
  return newSession(sessionName(dir, agent.name), dir, agent.command, agentEnv(agent), log);
}
