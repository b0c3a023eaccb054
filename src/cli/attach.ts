// po attach: the terminal joins an agent's tmux session (switch-client when already inside tmux).
import { spawnSync } from "node:child_process";
import { parseVerb, COMMON_HELP } from "./args.js";
import { agentSessions, notRunning } from "./agent-sessions.js";
import { UserError } from "../common/problems.js";

export const summary = "attach the terminal to an agent's tmux session";
const help = `Usage: po attach NAME [AGENT]

Attaches this terminal to the tmux session of project NAME's agent (AGENT may be left out when the
project has one agent). Inside tmux ($TMUX set), switches the client to that session instead.
Detach as usual (prefix, then d). Says so, exit 1, when the project is not running.

Options:
${COMMON_HELP}`;

export async function run(argv: string[]): Promise<number> {
  const args = parseVerb("attach", argv, {}, help);
  if (!args) return 0;
  const { project, sessions } = await agentSessions(args.values.fleet, args.positionals, "attach");
  if (sessions.length > 1)
    throw new UserError(
      `attach: ${project.name} has ${sessions.length} agents; say which: ` +
        sessions.map((s) => `po attach ${project.name} ${s.agent}`).join(", "),
    );
  if (!sessions.length) throw new UserError(`attach: ${project.name} has no agents in its agents.toml`);
  const [s] = sessions;
  if (!s.live) throw notRunning(project, sessions);
  const inside = Boolean(process.env.TMUX);
  if (!inside && !process.stdin.isTTY)
    throw new UserError(`attach: no terminal to attach; po logs ${project.name} prints the screen instead`);
  // The terminal belongs to tmux until it detaches, however long that is: no timeout here.
  const r = spawnSync("tmux", [inside ? "switch-client" : "attach-session", "-t", `=${s.session}`], {
    stdio: "inherit",
  });
  if (r.error) throw new UserError(`attach: tmux cannot run: ${r.error.message}`);
  return r.status ?? 1;
}
