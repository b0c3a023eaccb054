// po list: the registry, one line per project.
import { parseVerb, COMMON_HELP } from "./args.js";
import { requireFleet } from "../registry/fleet.js";
import { columns, printJson } from "./output.js";
import type { DesiredProject } from "../../reconcile/model.js";

export const summary = "list the projects of fleet.toml";
const help = `Usage: po list [--json]

Lists the projects of the fleet registry: name, enabled, harness@ref and location. A project on
another host reads NAME@HOST, and its location is a path on that host.

Options:
${COMMON_HELP}`;

export function projectJson(p: DesiredProject) {
  return {
    name: p.name,
    ...(p.host ? { host: p.host } : {}),
    enabled: p.enabled,
    harness: p.harness.name,
    ref: p.ref,
    location: p.location,
    ...(p.url ? { url: p.url } : {}),
  };
}

export async function run(argv: string[]): Promise<number> {
  const args = parseVerb("list", argv, {}, help, 0);
  if (!args) return 0;
  const { fleet } = await requireFleet(args.values.fleet);
  if (args.values.json) printJson(fleet.projects.map(projectJson));
  else if (!fleet.projects.length) process.stdout.write(`No projects in ${fleet.path}.\n`);
  else {
    const rows = fleet.projects.map((p) => [
      p.host ? `${p.name}@${p.host}` : p.name,
      p.enabled ? "enabled" : "disabled",
      `${p.harness.name}@${p.ref}`,
      p.location,
    ]);
    process.stdout.write(columns([["NAME", "ENABLED", "HARNESS", "LOCATION"], ...rows]) + "\n");
  }
  return 0;
}
