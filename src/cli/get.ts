// po get NAME: one project of the registry.
import { parseVerb, COMMON_HELP } from "./args.js";
import { requireFleet } from "../registry/fleet.js";
import { printJson } from "./output.js";
import { projectJson } from "./list.js";
import { findProject } from "./select.js";
import { previousRef } from "../state/previous.js";
import { stateDir } from "../state/state.js";

export const summary = "show one project of fleet.toml";
const help = `Usage: po get NAME [--json]

Shows one project of the fleet registry with its harness, and the ref it had before its last pin
(previousRef, from the journal).

Options:
${COMMON_HELP}`;

export async function run(argv: string[]): Promise<number> {
  const args = parseVerb("get", argv, {}, help);
  if (!args) return 0;
  const { fleet } = await requireFleet(args.values.fleet);
  const p = findProject(fleet, args.positionals, "get");
  const h = p.harness;
  const previous = previousRef(stateDir(fleet.path), p.name) ?? null;
  const host = fleet.hosts?.find((x) => x.name === p.host);
  if (args.values.json)
    printJson({ ...projectJson(p), previousRef: previous, harness: { ...h, up: h.up, down: h.down } });
  else {
    const lines = [
      `name      ${p.name}`,
      `enabled   ${p.enabled}`,
      `harness   ${h.name} (${h.url}) at ${h.path}/`,
      `ref       ${p.ref}`,
      ...(previous ? [`previous  ${previous} (before the last pin; po update ${p.name} --previous)`] : []),
      // a remote location is a path on that host, never here
      ...(host ? [`host      ${host.name} (ssh ${host.ssh})`] : []),
      `location  ${p.location}`,
      ...(p.url ? [`url       ${p.url}`] : []),
      `up        ${JSON.stringify(h.up)}`,
      `down      ${JSON.stringify(h.down)}`,
      `session   ${h.session}`,
    ];
    process.stdout.write(lines.join("\n") + "\n");
  }
  return 0;
}
