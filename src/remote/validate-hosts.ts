// po validate --deep of the projects on other hosts: each host's po checks its own projects (one
// ssh call per host, hosts in parallel); a host that cannot answer is a problem of each of its projects.
import { mapLimit } from "../../reconcile/limit.js";
import type { DesiredFleet, DesiredProject } from "../../reconcile/model.js";
import type { ProjectProblem } from "../registry/validate-deep.js";
import { PROTOCOL, type Request, type ValidateReply } from "./protocol.js";
import { askHost, HostFailure, HOSTS_PARALLELISM, splitByHost } from "./observe-hosts.js";

export async function validateOnHosts(fleet: DesiredFleet, projects: DesiredProject[]): Promise<ProjectProblem[]> {
  const work = splitByHost(fleet.hosts ?? [], projects, []).remote;
  const found = await mapLimit(work, HOSTS_PARALLELISM, async (w) => {
    const request: Request = { protocol: PROTOCOL, projects: w.projects, removed: [], offline: true };
    const reply = await askHost<ValidateReply>(w.host, "validate", request);
    if (reply instanceof HostFailure) return w.projects.map((p) => ({ project: p.name, message: reply.message }));
    // the paths in these messages are the host's
    return reply.problems.map((x) => ({ project: x.project, message: `on host ${w.host.name}: ${x.message}` }));
  });
  return found.flat();
}
