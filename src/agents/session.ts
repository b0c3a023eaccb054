// One agent of po agents: where its state and log live, and how its tmux session is started.
import { join } from "node:path";
import type { AgentSpec } from "../registry/agents-file.js";
import { newSession, sessionName } from "../adapters/tmux.js";
import { appendPrivate, privateDir, refuseLink, StateWriteError, writePrivate } from "../state/private.js";
import { LAUNCH_SCRIPT, takesPrompt } from "./launch.js";
import { readJson } from "../state/state.js";
import { tailOfFile } from "../common/tail.js";

export function statePaths(dir: string) {
  const state = join(dir, ".ao-state");
  const logs = join(state, "logs");
  return {
    state,
    logs,
    pidFile: join(state, "watchdog.pid"),
    stateFile: join(state, "agents.json"),
    watchdogLog: join(logs, "watchdog.log"),
    /** when po agents up last ran: it ends every "failed" given up before */
    upFile: join(state, "agents-up.json"),
    reports: join(state, "reports"),
    exits: join(state, "exit"),
  };
}

export function agentLog(dir: string, agent: string): string {
  return join(statePaths(dir).logs, `${agent}.log`);
}

/** The last lines the agent itself printed (po's own "--- … po: starting" lines left out). */
export function agentLogTail(dir: string, agent: string, n = 3): string[] {
  return tailOfFile(agentLog(dir, agent), n, /^--- \S+ po: /);
}

/** When po agents up last ran (ms), or 0: an agent given up on before it may be restarted again. */
export function lastUp(dir: string): number {
  return Date.parse(readJson<{ time?: string }>(statePaths(dir).upFile, {}).time ?? "") || 0;
}

export function recordUp(dir: string): void {
  writePrivate(statePaths(dir).upFile, `${JSON.stringify({ time: new Date().toISOString() })}\n`);
}

/** The file an agent's session writes its exit status to. */
export function exitFile(dir: string, agent: string): string {
  return join(statePaths(dir).exits, agent);
}

export function agentEnv(agent: AgentSpec): Record<string, string> {
  // PATH as po had it, which `up` checked the agent's program against, whatever the tmux server's is.
  const env: Record<string, string> = { PO_AGENT: agent.name };
  if (agent.prompt) env.PO_PROMPT_FILE = agent.prompt;
  if (process.env.PATH) env.PATH = process.env.PATH;
  return env;
}

/** What the session runs: the command itself, or the launcher when the command takes the prompt. */
function sessionArgv(dir: string, agent: AgentSpec): string[] {
  return takesPrompt(agent) ? [process.execPath, LAUNCH_SCRIPT, dir, agent.name] : agent.command;
}

/** Starts one agent's session (false when it is already there). `why` goes into its log. */
export async function startAgent(dir: string, agent: AgentSpec, why: string): Promise<boolean> {
  const log = agentLog(dir, agent.name);
  // The pane's shell appends to the log and writes the exit file, following links as shells do:
  // both are made or checked here first, never through a link.
  privateDir(statePaths(dir).exits);
  refuseLink(exitFile(dir, agent.name));
  const header = `\n--- ${new Date().toISOString()} po: starting ${agent.name} (${why}): ${agent.command.join(" ")}\n`;
  try {
    appendPrivate(log, header);
  } catch (e) {
    // a full disk loses the line, not the agent; a link is refused
    if (!(e instanceof StateWriteError && e.code === "ENOSPC")) throw e;
  }
  const argv = sessionArgv(dir, agent);
  return newSession(sessionName(dir, agent.name), dir, argv, agentEnv(agent), log, exitFile(dir, agent.name));
}
