// po completion: a bash, zsh or fish script that completes verbs, options, project names from
// fleet.toml and agent names; the script asks po itself (po completion complete -- WORDS…).
import type { DesiredFleet, DesiredProject } from "../../reconcile/model.js";
import { parseVerb, COMMON_HELP } from "./args.js";
import { helpText, optionsOf, type Verb } from "./verb-help.js";
import { DEFAULT_FLEET, loadFleet } from "../registry/fleet.js";
import { loadAgents } from "../registry/agents-file.js";
import { UserError } from "../common/problems.js";
import { PROTOCOL, type ObserveReply, type Request } from "../remote/protocol.js";

/**
 * How long a Tab may wait for a host: the shell is blocked meanwhile. A cold login may need longer;
 * it still leaves the shared connection behind (ControlPersist), so the next Tab is quick.
 */
const HOST_TIMEOUT_S = 3;

/** $PO_COMPLETION_TIMEOUT_S when it is a positive number (a slow link), else 3 s. */
function hostTimeoutMs(): number {
  const s = Number(process.env.PO_COMPLETION_TIMEOUT_S);
  return (Number.isFinite(s) && s > 0 ? s : HOST_TIMEOUT_S) * 1000;
}

export const summary = "print a shell completion script (bash, zsh or fish)";
const help = `Usage: po completion bash|zsh|fish

Prints a script that completes po's verbs, their options, project names from fleet.toml (the
--fleet file on the line, else $PO_FLEET, else ./fleet.toml) and, for po logs and po attach, the
project's agent names. A project on another host has its agents.toml there: its po is asked over
ssh, and a host that does not answer within ${HOST_TIMEOUT_S} s ($PO_COMPLETION_TIMEOUT_S) completes no agent name.
Load it from your shell's start-up file:
  bash:  source <(po completion bash)          (in ~/.bashrc)
  zsh:   source <(po completion zsh)           (in ~/.zshrc, after compinit)
  fish:  po completion fish | source           (in ~/.config/fish/config.fish)

Options:
${COMMON_HELP}`;

const SCRIPTS = {
  bash: `# po completion for bash: source <(po completion bash)
_po() {
  local IFS=$'\\n'
  COMPREPLY=($(po completion complete -- "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
}
complete -o default -F _po po
`,
  zsh: `#compdef po
# po completion for zsh: source <(po completion zsh)
_po() {
  local -a c
  c=("\${(@f)$(po completion complete -- "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  c=(\${c:#})
  if (( \${#c} )); then compadd -a c; else _files; fi
}
compdef _po po
`,
  fish: `# po completion for fish: po completion fish | source
complete -c po -a '(po completion complete -- (commandline -opc)[2..-1] (commandline -ct))'
`,
};

/** Verbs whose positionals are project names; logs and attach take an agent name second. */
const TAKES_NAMES = new Set(["plan", "apply", "status", "get", "start", "stop", "update", "restart", "logs", "attach"]);
const FIXED: Record<string, string[]> = { agents: ["up", "down", "status"], completion: Object.keys(SCRIPTS) };

async function projects(fleetFile: string): Promise<{ fleet?: DesiredFleet; names: Map<string, DesiredProject> }> {
  const { fleet } = await loadFleet(fleetFile).catch(() => ({ fleet: undefined }));
  return { fleet, names: new Map((fleet?.projects ?? []).map((p) => [p.name, p])) };
}

/** The agents of `p`: its agents.toml here, or as its host's po reads it (offline, bounded, silent on failure). */
async function agentNames(fleet: DesiredFleet, p: DesiredProject): Promise<string[]> {
  const host = p.host && fleet.hosts?.find((h) => h.name === p.host);
  if (!host) return ((await loadAgents(p.location)).config?.agents ?? []).map((a) => a.name);
  // loaded only here: every other Tab stays as quick as po's start
  const { askHost, HostFailure } = await import("../remote/observe-hosts.js");
  const request: Request = { protocol: PROTOCOL, projects: [p], removed: [], offline: true };
  const reply = await askHost<ObserveReply>(host, "observe", request, hostTimeoutMs());
  return reply instanceof HostFailure ? [] : (reply.actual.find((a) => a.name === p.name)?.agents ?? []);
}

/** The candidates for the last word of `words` (the words after po, the last one being completed). */
async function candidates(words: string[], verbs: Record<string, () => Promise<Verb>>): Promise<string[]> {
  const cur = words.at(-1) ?? "";
  const before = words.slice(0, -1);
  if (!before.length) return Object.keys(verbs);
  const [verb] = before;
  if (!Object.hasOwn(verbs, verb)) return [];
  const text = await helpText(await verbs[verb]());
  if (cur.startsWith("-")) return optionsOf(text);
  const fleetAt = before.indexOf("--fleet");
  const fleetFile = (fleetAt >= 0 ? before[fleetAt + 1] : undefined) ?? process.env.PO_FLEET ?? DEFAULT_FLEET;
  const prev = before.at(-1)!;
  if (prev === "--target" || prev === "--exclude") return [...(await projects(fleetFile)).names.keys()];
  // An option followed by a placeholder in the help takes a value: nothing to offer but files.
  if (prev.startsWith("--") && new RegExp(`${prev} [A-Z]`).test(text)) return [];
  const positionals = before.slice(1).filter((w, i, all) => !w.startsWith("-") && !all[i - 1]?.startsWith("--"));
  if (FIXED[verb]) return positionals.length ? [] : FIXED[verb];
  if (!TAKES_NAMES.has(verb)) return [];
  const { fleet, names } = await projects(fleetFile);
  if ((verb === "logs" || verb === "attach") && positionals.length === 1) {
    const p = names.get(positionals[0]);
    return fleet && p ? agentNames(fleet, p) : [];
  }
  return (verb === "logs" || verb === "attach") && positionals.length > 1 ? [] : [...names.keys()];
}

export async function run(argv: string[], verbs: Record<string, () => Promise<Verb>> = {}): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === "complete") {
    const words = rest[0] === "--" ? rest.slice(1) : rest;
    const cur = words.at(-1) ?? "";
    const found = (await candidates(words.length ? words : [""], verbs)).filter((c) => c.startsWith(cur));
    process.stdout.write(found.map((c) => `${c}\n`).join(""));
    return 0;
  }
  const args = parseVerb("completion", argv, {}, help, 1);
  if (!args) return 0;
  const [shell] = args.positionals;
  if (shell === undefined || !Object.hasOwn(SCRIPTS, shell))
    throw new UserError(
      `completion: say bash, zsh or fish${shell ? `, not '${shell}'` : ""}; see po completion --help`,
    );
  process.stdout.write(SCRIPTS[shell as keyof typeof SCRIPTS]);
  return 0;
}
