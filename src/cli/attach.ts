// po attach: the terminal joins an agent's tmux session (switch-client when already inside tmux);
// for a project on another host, through ssh -t and the po there.
import { spawnSync } from "node:child_process";
import type { SessionProject } from "../remote/protocol.js";
import { parseVerb, COMMON_HELP } from "./args.js";
import { agentSessions, notRunning, pickAgent } from "./agent-sessions.js";
import { UserError } from "../common/problems.js";
import { sessionOnHost } from "../remote/session.js";

export const summary = "attach the terminal to an agent's tmux session";
const help = `Usage: po attach NAME [AGENT]

Attaches this terminal to the tmux session of project NAME's agent (AGENT may be left out when the
project has one agent). Inside tmux ($TMUX set), switches the client to that session instead.
Detach as usual (prefix, then d). Says so, exit 1, when the project is not running. For a project
on another host, attaches through ssh -t to that host's tmux session, by the po there.

Options:
${COMMON_HELP}`;

const noTerminal = (project: SessionProject) =>
  new UserError(`attach: no terminal to attach; po logs ${project.name} prints the screen instead`);

/** Attaches this terminal to the agent's session on this machine (run here, or by the po of its host). */
export async function attachTo(project: SessionProject, agent: string | undefined): Promise<number> {
  const sessions = await agentSessions(project, agent, "attach");
  if (sessions.length > 1)
    throw new UserError(
      `attach: ${project.name} has ${sessions.length} agents; say which: ` +
        sessions.map((s) => `po attach ${project.name} ${s.agent}`).join(", "),
    );
  if (!sessions.length) throw new UserError(`attach: ${project.name} has no agents in its agents.toml`);
  const [s] = sessions;
  if (!s.live) throw notRunning(project, sessions);
  const inside = Boolean(process.env.TMUX);
  if (!inside && !process.stdin.isTTY) throw noTerminal(project);
  // The terminal belongs to tmux until it detaches, however long that is: no timeout here.
  const r = spawnSync("tmux", [inside ? "switch-client" : "attach-session", "-t", `=${s.session}`], {
    stdio: "inherit",
  });
  if (r.error) throw new UserError(`attach: tmux cannot run: ${r.error.message}`);
  return r.status ?? 1;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseVerb("attach", argv, {}, help);
  if (!args) return 0;
  const { project, agent, host } = await pickAgent(args.values.fleet, args.positionals, "attach");
  if (!host) return attachTo(project, agent);
  // ssh -t makes a terminal there only from one here (a local tmux client cannot switch to a remote session)
  if (!process.stdin.isTTY) throw noTerminal(project);
  return sessionOnHost(host, "attach", project, agent !== undefined ? { agent } : {}, { tty: true });
}
