// The tmux sessions of one project's agents, for po logs and po attach: NAME [AGENT] on the command line.
import { requireAgents } from "../registry/agents-file.js";
import { requireFleet } from "../registry/fleet.js";
import { listSessions, sessionName } from "../adapters/tmux.js";
import { UserError } from "../common/problems.js";
import { didYouMean } from "../common/suggest.js";
import { findProject } from "./select.js";
import type { DesiredProject } from "../../reconcile/model.js";

export interface AgentSession {
  agent: string;
  session: string;
  live: boolean;
}

/** The project NAME and its agents' sessions (only AGENT's when given); refuses unknown names. */
export async function agentSessions(
  fleetFile: string,
  positionals: string[],
  verb: string,
): Promise<{ project: DesiredProject; sessions: AgentSession[] }> {
  const [name, agent, extra] = positionals;
  if (extra !== undefined) throw new UserError(`${verb}: unexpected argument '${extra}'; see po ${verb} --help`);
  const { fleet } = await requireFleet(fleetFile);
  const project = findProject(fleet, name === undefined ? [] : [name], verb);
  const agents = (await requireAgents(project.location)).agents.map((a) => a.name);
  if (agent !== undefined && !agents.includes(agent))
    throw new UserError(
      `${verb}: ${project.name} has no agent '${agent}'${didYouMean(agent, agents)}; its agents: ` +
        `${agents.join(", ") || "none"}`,
    );
  const live = await listSessions();
  const sessions = agents
    .filter((a) => agent === undefined || a === agent)
    .map((a) => {
      const session = sessionName(project.location, a, project.harness.session);
      return { agent: a, session, live: live.has(session) };
    });
  return { project, sessions };
}

/** The one-line complaint about sessions that are not live. */
export function notRunning(project: DesiredProject, dead: AgentSession[]): UserError {
  const what = dead.map((s) => `${s.agent} (session ${s.session})`).join(", ");
  return new UserError(
    `${project.name} is not running: no live tmux session for ${what}; po status shows it, ` +
      `po apply ${project.name} starts it when it is enabled`,
  );
}
