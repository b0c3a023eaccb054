// The launcher of an agent whose command takes its prompt: `node dist/src/agents/launch.js DIR AGENT`
// is what its tmux session runs. It reads DIR/agents.toml and the prompt file itself, puts them in
// place of {prompt} (the file's absolute path) and {prompt_text} (its text) in every argv element,
// and runs the agent on the pane's terminal, exiting with its status. The text never travels inside
// the tmux command, which tmux refuses beyond about 16 KB, so a prompt of any size arrives whole.
import { spawn } from "node:child_process";
import { readFileSync, realpathSync } from "node:fs";
import { constants } from "node:os";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { requireAgents, type AgentSpec } from "../registry/agents-file.js";

export const LAUNCH_SCRIPT = fileURLToPath(import.meta.url);
const PLACEHOLDER = /\{prompt(?:_text)?\}/;

export function takesPrompt(agent: AgentSpec): boolean {
  return agent.command.some((a) => PLACEHOLDER.test(a));
}

/** The agent's argv with its prompt in place of the placeholders. */
export function promptArgv(agent: AgentSpec, readText: (file: string) => string): string[] {
  if (!takesPrompt(agent)) return agent.command;
  if (!agent.prompt) throw new Error(`agent ${agent.name}: command uses {prompt} but it has no prompt`);
  const text = agent.command.some((a) => a.includes("{prompt_text}")) ? readText(agent.prompt) : "";
  // one pass, so that a prompt containing "{prompt}" is not expanded again
  return agent.command.map((a) => a.replace(/\{prompt(_text)?\}/g, (_, t) => (t ? text : agent.prompt!)));
}

async function main(dir: string, name: string): Promise<number> {
  const agent = (await requireAgents(dir)).agents.find((a) => a.name === name);
  if (!agent) throw new Error(`agent ${name} is not in ${dir}/agents.toml`);
  const [cmd, ...args] = promptArgv(agent, (f) => readFileSync(f, "utf8"));
  const child = spawn(cmd, args, { cwd: dir, stdio: "inherit" });
  // The pane's signals reach the agent too (same process group); the launcher outlives it to pass on its status.
  for (const s of ["SIGINT", "SIGQUIT"] as const) process.on(s, () => {});
  for (const s of ["SIGTERM", "SIGHUP"] as const) process.on(s, () => child.kill(s));
  return new Promise((done) => {
    child.on("error", (e) => {
      const missing = (e as NodeJS.ErrnoException).code === "ENOENT";
      process.stderr.write(`po: ${cmd}: ${missing ? "not found on PATH" : e.message}\n`);
      done(127);
    });
    // killed by a signal: the shell's convention, 128 + its number
    child.on("exit", (code, signal) => done(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
}

function isEntryPoint(): boolean {
  try {
    return realpathSync(process.argv[1]) === realpathSync(LAUNCH_SCRIPT);
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  const [dir, name] = process.argv.slice(2);
  if (!dir || !name) {
    process.stderr.write("usage: node launch.js DIR AGENT (started by po agents up)\n");
    process.exit(2);
  }
  main(resolve(dir), name).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`po: cannot start agent ${name}: ${(e as Error).message}\n`);
      process.exit(1);
    },
  );
}
