// po agents up | down: runs the agents of one directory's agents.toml as tmux sessions, plus the
// heal watchdog (src/agents/watchdog.ts) when an agent has watch = "heal". This is the reference
// implementation of the harness contract (docs/harness-contract.md); status is in status.ts.
//
// What an agent gets: its `command` runs in tmux session `{dir}-{agent}` ({dir} is the directory's
// base name; '.' and ':' become '_', as tmux requires) with the directory as working directory,
// {prompt} and {prompt_text} in its argv replaced by its prompt file's path and text (through the
// launcher, src/agents/launch.ts), and in its environment:
//   PO_AGENT        the agent's name
//   PO_PROMPT_FILE  the absolute path of its `prompt` file (only when it has one)
//   PATH            po's own, which its program was checked against
// Everything the agent prints is appended to DIR/.ao-state/logs/AGENT.log.
import { accessSync, constants } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { delimiter, isAbsolute, join, relative, resolve } from "node:path";
import { parse } from "smol-toml";
import { AGENTS_FILE, requireAgents, type AgentsConfig } from "../registry/agents-file.js";
import { problemsError, UserError } from "../common/problems.js";
import { killSession, liveSessionsOf, sessionInfo, sessionName } from "../adapters/tmux.js";
import { recordUp, startAgent, statePaths } from "./session.js";
import { refuseLinks, StateWriteError } from "../state/private.js";
import { takesPrompt } from "./launch.js";
import { ensureWatchdog, stopWatchdog } from "./watchdog-process.js";

async function checkPrompts(config: AgentsConfig): Promise<void> {
  const problems = [];
  for (const a of config.agents) {
    if (!a.prompt) continue;
    const info = await stat(a.prompt).catch(() => undefined);
    if (!info?.isFile())
      problems.push({
        file: config.file,
        path: `agents.${a.name}.prompt`,
        message: `prompt file not found: ${a.prompt}`,
      });
  }
  if (problems.length) throw problemsError(problems);
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Each agent's program must exist (a path, from the folder) or be on PATH, before anything starts. */
function checkPrograms(dir: string, config: AgentsConfig): void {
  const path = (process.env.PATH ?? "").split(delimiter).filter(Boolean);
  const missing = new Set<string>();
  for (const [program] of config.agents.map((a) => a.command)) {
    const found = program.includes("/")
      ? executable(resolve(dir, program))
      : path.some((d) => isAbsolute(d) && executable(join(d, program)));
    if (!found) missing.add(program);
  }
  if (missing.size)
    throw new UserError(
      [...missing]
        .map(
          (p) =>
            `${p}: not found ${p.includes("/") ? `in ${dir}` : "on PATH"}; install it, or set command in agents.toml`,
        )
        .join("\n"),
    );
}

/** An agent with a prompt its command never takes starts without its role: say so. */
function promptWarnings(dir: string, config: AgentsConfig): string[] {
  return config.agents
    .filter((a) => a.prompt && !takesPrompt(a))
    .map(
      (a) =>
        `agent ${a.name}: its command never receives its prompt ${relative(dir, a.prompt!)} (only PO_PROMPT_FILE ` +
        `in its environment); put {prompt_text} or {prompt} in command`,
    );
}

export interface UpResult {
  started: string[];
  running: string[];
  watchdog: { pid: number; started: boolean } | null;
  warnings: string[];
}

export async function up(dir: string): Promise<UpResult> {
  const config = await requireAgents(dir); // refuses `wake` (and every other problem) before anything starts
  await checkPrompts(config);
  checkPrograms(dir, config);
  const result: UpResult = { started: [], running: [], watchdog: null, warnings: promptWarnings(dir, config) };
  try {
    refuseLinks(statePaths(dir).state); // before anything starts: nothing there may lead outside the folder
    recordUp(dir); // an agent the watchdog gave up on may be restarted again
    const live = await liveSessionsOf(
      dir,
      config.agents.map((a) => sessionName(dir, a.name)),
    );
    for (const agent of config.agents) {
      const session = sessionName(dir, agent.name);
      const fresh = !live.has(session) && (await startAgent(dir, agent, "po agents up"));
      (fresh ? result.started : result.running).push(session);
    }
    // After the agents, so the watchdog's first check does not race `up` for the same session.
    if (config.agents.some((a) => a.watch === "heal")) result.watchdog = await ensureWatchdog(dir);
    return result;
  } catch (e) {
    // a state write that failed, or anything once agents were started: say what runs, in the same line
    if (!(e instanceof StateWriteError || (e instanceof UserError && result.started.length))) throw e;
    const done = result.started.length ? `${result.started.join(", ")} started and running` : "no agent was started";
    throw new UserError(`${e.message}; ${done}`);
  }
}

/** Agent names for `down`: from a valid agents.toml, else leniently from any parseable one. */
async function agentNamesForDown(dir: string): Promise<{ names: string[]; warning?: string }> {
  try {
    return { names: (await requireAgents(dir)).agents.map((a) => a.name) };
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    const raw = await readFile(join(dir, AGENTS_FILE), "utf8").catch(() => undefined);
    let agents: unknown;
    try {
      agents = raw === undefined ? undefined : (parse(raw) as { agents?: unknown }).agents;
    } catch {
      agents = undefined;
    }
    if (!agents || typeof agents !== "object") throw e;
    return { names: Object.keys(agents), warning: e.message };
  }
}

export interface DownResult {
  stopped: string[];
  watchdog: { pid?: number; stopped: boolean };
}

export async function down(dir: string): Promise<DownResult> {
  // The watchdog goes first, so nothing restarts the agents we are about to stop.
  const watchdog = await stopWatchdog(dir);
  const { names, warning } = await agentNamesForDown(dir);
  if (warning)
    process.stderr.write(`po agents down: agents.toml has problems, stopping its agents anyway:\n${warning}\n`);
  // refuses, changing nothing, when a session of these names belongs to another folder
  await liveSessionsOf(
    dir,
    names.map((n) => sessionName(dir, n)),
  );
  // every session of an agent goes, also one kept open around a dead process
  const open = await sessionInfo();
  const stopped = [];
  for (const name of names) {
    const session = sessionName(dir, name);
    if (!open.has(session)) continue;
    await killSession(session);
    stopped.push(session);
  }
  return { stopped, watchdog };
}
