// npm run demo: the whole story of po on a self-contained sandbox fleet (a local harness with two
// tagged versions, three projects, an isolated tmux server), one line of explanation per step.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { paint } from "../cli/output.js";
import { CLI, gitIn, harnessToml, makeHarnessRepo, sandboxEnv } from "./sandbox.js";

const root = mkdtempSync(join(tmpdir(), "po-demo-"));
const env = sandboxEnv(root);
const git = gitIn(env);
const fleetDir = join(root, "orchestrator");
let failed = false;

function say(text: string): void {
  process.stdout.write(`\n${paint(`# ${text}`, "bold")}\n`);
}

/** Runs one po verb in the sandbox and shows it as the operator would type it. */
function po(args: string[], expect: number[] = [0]): string {
  process.stdout.write(`$ po ${args.join(" ")}\n`);
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: fleetDir, env, encoding: "utf8", timeout: 120_000 });
  process.stdout.write(r.stdout + r.stderr);
  if (!expect.includes(r.status ?? -1)) {
    failed = true;
    throw new Error(`po ${args.join(" ")} exited ${r.status}, expected ${expect.join(" or ")}`);
  }
  return r.stdout;
}

/** The scaffolded agent runs `claude`; in the sandbox a `sleep` stands in for it. */
function standInAgent(project: string): void {
  const file = join(root, project, "agents.toml");
  const claude = 'command = ["claude", "--append-system-prompt", "{prompt_text}"]';
  writeFileSync(file, readFileSync(file, "utf8").replace(claude, 'command = ["sleep", "86400"]'));
  git(join(root, project), "commit", "-qam", "Use a stand-in agent for the sandbox");
}

function story(): void {
  say(`A sandbox in ${root}: a harness repository with tags v0.1.0 and v0.2.0, and a fleet.toml.`);
  makeHarnessRepo(join(root, "harness"), git);
  git(root, "init", "-q", fleetDir);
  writeFileSync(
    join(fleetDir, "fleet.toml"),
    `#:schema ${join(CLI, "../../../../schema/fleet.schema.json")}\nversion = 1\n\n# The harness ` +
      `every project pins at engine/.\n${harnessToml("demo", join(root, "harness"))}`,
  );
  say("Three new projects, each pinning the harness at v0.1.0, registered in fleet.toml.");
  for (const p of ["alpha", "beta", "gamma"]) {
    po(["create", p, "--ref", "v0.1.0", "--register"]);
    standInAgent(p);
  }
  po(["validate"]);
  say("plan: compare fleet.toml with the world. Every project should run, none does yet.");
  po(["plan"]);
  say("apply: execute exactly those actions (--yes because no one is at a terminal to confirm).");
  po(["apply", "--yes"]);
  say("plan again: the fleet has converged, so there is nothing to do.");
  if (!po(["plan", "--detailed-exitcode"]).includes("No changes")) throw new Error("the second plan was not empty");
  say("An operator edits fleet.toml through po: alpha moves to harness v0.2.0, beta is switched off.");
  po(["update", "alpha", "v0.2.0", "--no-apply"]);
  po(["stop", "beta", "--no-apply"]);
  say("plan shows the re-pin of alpha (stop, pin, start again) and the stop of beta; gamma is left alone.");
  po(["plan", "--detailed-exitcode"], [2]);
  say("apply converges the fleet again.");
  po(["apply", "--yes"]);
  say("status: desired against actual for every project.");
  po(["status"]);
  say("alpha's repository has one new commit, touching only engine:");
  process.stdout.write(git(join(root, "alpha"), "log", "-1", "--stat", "--format=%s%n%n%b"));
}

function cleanup(): void {
  for (const p of ["alpha", "beta", "gamma"])
    spawnSync(process.execPath, [CLI, "agents", "down", "--dir", join(root, p)], {
      env,
      timeout: 30_000,
      stdio: "ignore",
    });
  spawnSync("tmux", ["kill-server"], { env, timeout: 10_000, stdio: "ignore" });
}

try {
  story();
} catch (e) {
  failed = true;
  process.stderr.write(`demo: ${(e as Error).message}\n`);
} finally {
  cleanup();
}
say(
  failed
    ? "The demo failed; the sandbox is kept for a look."
    : "Done. The agents were stopped; the sandbox is kept so you can play with it:",
);
process.stdout.write(`  cd ${fleetDir}
  unset TMUX; export TMUX_TMPDIR=${env.TMUX_TMPDIR} GIT_CONFIG_GLOBAL=${env.GIT_CONFIG_GLOBAL}
  node ${CLI} plan        # alpha and gamma should run again: po apply starts them
`);
process.exitCode = failed ? 1 : 0;
