// po completion: a bash, zsh or fish script that completes verbs, options, project names from
// fleet.toml and agent names; the script asks po itself (po completion complete -- WORDS…).
import { parseVerb, COMMON_HELP } from "./args.js";
import { helpText, optionsOf, type Verb } from "./verb-help.js";
import { DEFAULT_FLEET, loadFleet } from "../registry/fleet.js";
import { loadAgents } from "../registry/agents-file.js";
import { UserError } from "../common/problems.js";

export const summary = "print a shell completion script (bash, zsh or fish)";
const help = `Usage: po completion bash|zsh|fish

Prints a script that completes po's verbs, their options, project names from fleet.toml (the
--fleet file on the line, else $PO_FLEET, else ./fleet.toml) and, for po logs and po attach, the
project's agent names. Load it from your shell's start-up file:
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

async function projects(fleetFile: string): Promise<Map<string, string>> {
  const { fleet } = await loadFleet(fleetFile).catch(() => ({ fleet: undefined }));
  return new Map((fleet?.projects ?? []).map((p) => [p.name, p.location]));
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
  if (prev === "--target" || prev === "--exclude") return [...(await projects(fleetFile)).keys()];
  // An option followed by a placeholder in the help takes a value: nothing to offer but files.
  if (prev.startsWith("--") && new RegExp(`${prev} [A-Z]`).test(text)) return [];
  const positionals = before.slice(1).filter((w, i, all) => !w.startsWith("-") && !all[i - 1]?.startsWith("--"));
  if (FIXED[verb]) return positionals.length ? [] : FIXED[verb];
  if (!TAKES_NAMES.has(verb)) return [];
  const names = await projects(fleetFile);
  if ((verb === "logs" || verb === "attach") && positionals.length === 1) {
    const location = names.get(positionals[0]);
    const { config } = location ? await loadAgents(location) : { config: undefined };
    return (config?.agents ?? []).map((a) => a.name);
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
