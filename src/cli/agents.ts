// po agents up | down | status | report: the verb; the runtime itself is in src/agents/.
import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { COMMON_HELP, parseVerb } from "./args.js";
import { columns, printJson } from "./output.js";
import { UserError } from "../common/problems.js";
import { down, up, type DownResult, type UpResult } from "../agents/agents.js";
import { status, type StatusResult } from "../agents/status.js";
import { report, STATES } from "../agents/report.js";

export const summary = "start, stop or show this directory's agents (tmux sessions + heal watchdog)";

const help = `Usage: po agents up|down|status [--dir DIR] [--json]
       po agents report AGENT STATE [--detail TEXT] [--dir DIR]

Runs the agents of DIR/agents.toml, each in its own tmux session {dir}-{agent}.
  up      validate agents.toml and that every agent's program is on PATH, start every agent
          that is not running, and start the heal watchdog when an agent has watch = "heal"
          (idempotent: never a second one); an agent the watchdog gave up on may run again
  down    stop the watchdog, then every agent session (idempotent)
  status  per agent: live or dead, its state and since when, silent for how long, restarts,
          watch mode; the watchdog's pid. --json: one JSON line per agent, the harness
          status format (agent, state, since, detail, and more)
  report  what an agent says of itself, for its own hooks: STATE is one of
          ${STATES.join(", ")}; waiting is told to [watchdog] notify

In an agent's command, {prompt} is its prompt file's absolute path and {prompt_text} its text.
Each agent also gets PO_AGENT=<name> and PO_PROMPT_FILE=<absolute path of its prompt> in its
environment; its output goes to DIR/.ao-state/logs/AGENT.log, the watchdog's to watchdog.log.

Options:
  --dir DIR      the directory holding agents.toml (default: the current directory)
  --detail TEXT  report: a few words on what the agent is doing or waiting for
${COMMON_HELP}`;

function printUp(r: UpResult): void {
  for (const w of r.warnings) process.stderr.write(`po: warning: ${w}\n`);
  const lines = [...r.started.map((s) => `started ${s}`), ...r.running.map((s) => `running ${s} (already)`)];
  if (!r.watchdog) lines.push('watchdog: not needed (no agent has watch = "heal")');
  else lines.push(`watchdog: ${r.watchdog.started ? "started" : "already running"}, pid ${r.watchdog.pid}`);
  process.stdout.write(`${lines.join("\n")}\n`);
}

function printDown(r: DownResult): void {
  const wd = r.watchdog.stopped ? `watchdog: stopped pid ${r.watchdog.pid}` : "watchdog: was not running";
  const lines = [wd, ...r.stopped.map((s) => `stopped ${s}`)];
  if (!r.stopped.length) lines.push("no agent session was running");
  process.stdout.write(`${lines.join("\n")}\n`);
}

function printStatus(r: StatusResult): void {
  const rows = r.agents.map((a) => [
    a.agent,
    a.session,
    a.live ? "live" : "dead",
    `${a.state}${a.detail ? ` (${a.detail})` : ""}`,
    a.since ?? "-",
    a.silent_s === undefined ? "-" : `${a.silent_s}s`,
    String(a.restarts),
    a.watch,
  ]);
  const table = rows.length
    ? columns([["AGENT", "SESSION", "LIVE", "STATE", "SINCE", "SILENT", "RESTARTS", "WATCH"], ...rows])
    : "no agents in agents.toml";
  const wd = r.watchdog.alive
    ? `watchdog: pid ${r.watchdog.pid}, alive, last check ${r.watchdog.lastCheck ?? "-"}`
    : `watchdog: not running${r.watchdog.pid ? ` (stale pid ${r.watchdog.pid})` : ""}`;
  process.stdout.write(`${table}\n${wd}\n`);
}

async function runReport(dir: string, rest: string[], detail: unknown, json: boolean): Promise<number> {
  const [agent, state, extra] = rest;
  if (!agent || !state) throw new UserError("agents report: say AGENT STATE, e.g. po agents report main waiting");
  if (extra !== undefined) throw new UserError(`agents report: unexpected argument '${extra}'`);
  const r = await report(dir, agent, state, detail as string | undefined);
  if (r.notifyProblem) process.stderr.write(`po: warning: ${r.notifyProblem}\n`);
  if (json) printJson(r);
  else process.stdout.write(`${agent}: ${r.state} since ${r.since}\n`);
  return 0;
}

const SUBCOMMANDS = { up: [up, printUp], down: [down, printDown], status: [status, printStatus] } as const;

export async function run(argv: string[]): Promise<number> {
  const args = parseVerb("agents", argv, { dir: { type: "string" }, detail: { type: "string" } }, help);
  if (!args) return 0;
  const [sub, ...extra] = args.positionals;
  if (sub === undefined) throw new UserError("agents: say up, down, status or report; see po agents --help");
  const dir = resolve((args.values.dir as string | undefined) ?? process.cwd());
  if (sub !== "report" && !Object.hasOwn(SUBCOMMANDS, sub))
    throw new UserError(`agents: unknown subcommand '${sub}' (up, down, status or report); see po agents --help`);
  if (!existsSync(dir)) throw new UserError(`agents: directory not found: ${dir}`);
  if (!statSync(dir).isDirectory()) throw new UserError(`agents: ${dir} is a file, not a directory; pass --dir DIR`);
  if (sub === "report") return runReport(dir, extra, args.values.detail, args.values.json);
  if (extra.length) throw new UserError(`agents ${sub}: unexpected argument '${extra[0]}'`);
  const [act, print] = SUBCOMMANDS[sub as keyof typeof SUBCOMMANDS];
  const result = await act(dir);
  // status --json: JSON lines in the harness status format, one per agent
  if (args.values.json && sub === "status")
    for (const a of (result as StatusResult).agents) process.stdout.write(`${JSON.stringify(a)}\n`);
  else if (args.values.json) printJson(result);
  else (print as (r: typeof result) => void)(result);
  return 0;
}
