// po hosts: each host of fleet.toml: reachable over ssh, its po and tmux versions, its projects,
// and which apply holds its lock. One ssh call per host, hosts in parallel.
import { mapLimit } from "../../reconcile/limit.js";
import type { HostSpec } from "../../reconcile/model.js";
import { parseVerb, wholeNumber, COMMON_HELP } from "./args.js";
import { columns, paint, printJson, useColor } from "./output.js";
import { requireFleet } from "../registry/fleet.js";
import type { InfoReply } from "../remote/protocol.js";
import { askHost, HostFailure, HOSTS_PARALLELISM } from "../remote/observe-hosts.js";

export const summary = "each host: reachable, its po and tmux versions, projects, lock";
const help = `Usage: po hosts [--hosts-parallelism N] [--json]

Asks every [hosts.NAME] of fleet.toml, over ssh, for its po and tmux versions and the apply that
holds its lock (if any), and lists the projects that live there. Reads only.

Options:
  --hosts-parallelism N  hosts asked at once (default 8)
${COMMON_HELP}
Exit codes: 0 every host answered, 1 a host did not.`;

interface HostRow {
  name: string;
  ssh: string;
  reachable: boolean;
  error?: string;
  po?: string;
  tmux?: string;
  lock?: InfoReply["lock"];
  projects: string[];
}

async function ask(host: HostSpec, projects: string[]): Promise<HostRow> {
  const base = { name: host.name, ssh: host.ssh, projects };
  const info = await askHost<InfoReply>(host, "info", {}, 60_000);
  // reachable but wrong: ssh got through, and what runs there as po did not answer as this po's protocol
  if (info instanceof HostFailure) return { ...base, reachable: info.reachable, error: info.message };
  return { ...base, reachable: true, po: info.po, tmux: info.tmux, lock: info.lock };
}

export async function run(argv: string[]): Promise<number> {
  const args = parseVerb("hosts", argv, { "hosts-parallelism": { type: "string" } }, help);
  if (!args) return 0;
  const limit = wholeNumber("hosts", "hosts-parallelism", args.values["hosts-parallelism"], HOSTS_PARALLELISM);
  const { fleet } = await requireFleet(args.values.fleet);
  const hosts = fleet.hosts ?? [];
  const rows = await mapLimit(hosts, limit, (h) =>
    ask(
      h,
      fleet.projects.filter((p) => p.host === h.name).map((p) => p.name),
    ),
  );
  const bad = rows.filter((r) => r.error);
  if (args.values.json) printJson({ hosts: rows });
  else if (!rows.length) process.stdout.write(`No hosts in ${fleet.path}: every project is on this machine.\n`);
  else {
    const color = useColor();
    const table = rows.map((r) => [
      r.name,
      r.ssh,
      r.reachable ? paint("yes", "green", color) : paint("no", "red", color),
      r.po ?? "-",
      r.tmux ?? "-",
      r.lock ? `pid ${r.lock.pid} on ${r.lock.host} since ${r.lock.started}` : "-",
      r.projects.join(", ") || "-",
    ]);
    process.stdout.write(columns([["HOST", "SSH", "REACHABLE", "PO", "TMUX", "LOCK", "PROJECTS"], ...table]) + "\n");
    for (const r of bad) process.stderr.write(`po: ${r.error}\n`);
  }
  return bad.length ? 1 : 0;
}
