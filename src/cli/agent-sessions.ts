// The tmux sessions of one project's agents, for po logs and po attach: NAME [AGENT] on the command line.
import { requireAgents } from "../registry/agents-file.js";
import { requireFleet } from "../registry/fleet.js";
import { listSessions, sessionName } from "../adapters/tmux.js";
import { UserError } from "../common/problems.js";
import { didYouMean } from "../common/suggest.js";
import { findProject } from "./select.js";
import type { DesiredFleet, DesiredProject, HostSpec } from "../../reconcile/model.js";
import type { SessionProject } from "../remote/protocol.js";

export interface AgentSession {
  agent: string;
  session: string;
  live: boolean;
}

/** The project NAME and the AGENT (if any) of the command line, and the host it lives on (absent: here). */
export async function pickAgent(
  fleetFile: string,
  positionals: string[],
  verb: string,
): Promise<{ fleet: DesiredFleet; project: DesiredProject; agent?: string; host?: HostSpec }> {
  const [name, agent, extra] = positionals;
  if (extra !== undefined) throw new UserError(`${verb}: unexpected argument '${extra}'; see po ${verb} --help`);
  const { fleet } = await requireFleet(fleetFile);
  const project = findProject(fleet, name === undefined ? [] : [name], verb);
  const host = fleet.hosts?.find((h) => h.name === project.host);
  return { fleet, project, ...(agent !== undefined ? { agent } : {}), ...(host ? { host } : {}) };
}

/** The sessions of the project's agents on this machine (only AGENT's when given); refuses unknown names. */
export async function agentSessions(project: SessionProject, agent: string | undefined, verb: string) {
  const agents = (await requireAgents(project.location)).agents.map((a) => a.name);
  if (agent !== undefined && !agents.includes(agent))
    throw new UserError(
      `${verb}: ${project.name} has no agent '${agent}'${didYouMean(agent, agents)}; its agents: ` +
        `${agents.join(", ") || "none"}`,
    );
  const live = await listSessions();
  return agents
    .filter((a) => agent === undefined || a === agent)
    .map((a): AgentSession => {
      const session = sessionName(project.location, a, project.harness.session);
      return { agent: a, session, live: live.has(session) };
    });
}

/** The one-line complaint about sessions that are not live. */
export function notRunning(project: Pick<DesiredProject, "name">, dead: AgentSession[]): UserError {
  const what = dead.map((s) => `${s.agent} (session ${s.session})`).join(", ");
  return new UserError(
    `${project.name} is not running: no live tmux session for ${what}; po status shows it, ` +
      `po apply ${project.name} starts it when it is enabled`,
  );
}
