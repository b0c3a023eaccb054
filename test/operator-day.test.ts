// The operator's day on a real fleet (real git, real tmux, the sandbox harness): po logs, attach,
// restart, history, status by name with --detailed-exitcode, plan and apply by name, show, the
// apply's --json-stream and harness output, and completion of names from fleet.toml.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { CLI, makeProject, makeWorld, panePid, until, writeFleet, type World } from "./support/world.js";
import { shellQuote } from "../src/adapters/tmux.js";

const MARKED = (name: string) =>
  `[agents.main]\ncommand = ["sh", "-c", "echo MARKER-${name}; echo second-${name}; exec sleep 3600"]\n` +
  `watch = "none"\n`;

function planOf(w: World, ...args: string[]): { project: string; kind: string }[] {
  const r = w.po(["plan", "--json", ...args]);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { actions: { project: string; kind: string }[] }).actions;
}

describe("the operator's day on alpha and beta", () => {
  let w: World;
  const ids: string[] = [];
  before(() => {
    w = makeWorld("po-operator-");
    for (const name of ["alpha", "beta"]) {
      const dir = makeProject(w, name, "v0.2.0");
      writeFileSync(join(dir, "agents.toml"), MARKED(name));
      w.git(dir, "commit", "-qam", "a marked agent");
    }
    writeFleet(w, { alpha: { ref: "v0.2.0" }, beta: { ref: "v0.2.0" } });
  });
  after(() => w?.cleanup());

  it("plans and applies only the projects named, and says the rest still has changes", () => {
    assert.deepEqual(planOf(w, "beta"), [{ ...planOf(w, "beta")[0], project: "beta", kind: "start" }]);
    assert.deepEqual(
      planOf(w, "--exclude", "alpha").map((a) => a.project),
      ["beta"],
    );
    const r = w.po(["apply", "alpha", "--yes", "--json-stream"]);
    assert.equal(r.code, 0, r.stderr);
    const events = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { event: string; plan: { id: string } });
    assert.deepEqual(
      events.map((e) => e.event),
      ["plan", "apply-start", "start", "end", "apply-end", "result"],
    );
    ids.push(events[0].plan.id);
    assert.deepEqual(w.sessions(), ["alpha-main"]);
    const again = w.po(["apply", "beta", "--yes"]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^The targets \(beta\) converged: a new plan of them has no changes\.$/m);
    assert.deepEqual(w.sessions(), ["alpha-main", "beta-main"]);
  });

  it("says when the rest of the fleet still has changes after a targeted apply", () => {
    w.tmux("kill-session", "-t", "=beta-main");
    const r = w.po(["apply", "alpha", "--yes"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      "No changes. The targets (alpha) are up to date.\n" +
        "The rest of the fleet still has changes (Plan: 1 to start.); po plan shows them.\n",
    );
    w.tmux("kill-session", "-t", "=alpha-main");
    const both = w.po(["apply", "alpha", "--yes"]);
    assert.equal(both.code, 0, both.stderr);
    assert.match(
      both.stdout,
      new RegExp(
        "^The targets \\(alpha\\) converged: a new plan of them has no changes\\. " +
          "The rest of the fleet still has changes \\(Plan: 1 to start\\.\\); po plan shows them\\.$",
        "m",
      ),
    );
    const fix = w.po(["apply", "--yes", "--json"]);
    assert.equal(fix.code, 0, fix.stderr);
    ids.push((JSON.parse(fix.stdout) as { plan: { id: string } }).plan.id);
  });

  it("po logs shows the agent's screen, --lines N its last N lines, and refuses a stopped project", async () => {
    const screen = () => w.tmux("capture-pane", "-p", "-t", "=alpha-main:").stdout;
    await until(() => screen().includes("second-alpha"), 10_000, "alpha's screen to show second-alpha");
    const r = w.po(["logs", "alpha"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "MARKER-alpha\nsecond-alpha\n");
    assert.equal(w.po(["logs", "alpha", "main", "--lines", "1"]).stdout, "second-alpha\n");
    const typo = w.po(["logs", "alpha", "mian"]);
    assert.equal(typo.stderr, "po: logs: alpha has no agent 'mian' (did you mean 'main'?); its agents: main\n");
    w.tmux("kill-session", "-t", "=beta-main");
    const dead = w.po(["logs", "beta"]);
    assert.equal(dead.code, 1);
    assert.match(dead.stderr, /^po: beta is not running: no live tmux session for main \(session beta-main\); /);
  });

  it("po logs --harness shows what the project's last harness up printed", () => {
    const r = w.po(["logs", "alpha", "--harness"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^==> harness up \(.*alpha\.up\.log\) <==\n# apply [0-9a-f]{32}: harness up, exit code 0\n/);
  });

  it("po status --detailed-exitcode exits 2 on drift, names limit the view, sessions are named", () => {
    const r = w.po(["status", "--detailed-exitcode"]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    const alpha = w.po(["status", "alpha", "--detailed-exitcode"]);
    assert.equal(alpha.code, 0, alpha.stdout + alpha.stderr);
    // the project table, before the per-agent one
    const rows = alpha.stdout
      .split("\n\n")[0]
      .split("\n")
      .filter((l) => /^(alpha|beta) /.test(l));
    assert.equal(rows.length, 1);
    assert.match(rows[0], /^alpha .* 1\/1 +in sync +alpha-main$/);
    assert.equal(w.po(["status", "--exclude", "beta", "--detailed-exitcode"]).code, 0);
  });

  it("po restart alpha makes a new alpha session only, journaled, and leaves fleet.toml alone", () => {
    assert.equal(w.po(["apply", "beta", "--yes"]).code, 0);
    const fleet = readFileSync(join(w.root, "fleet.toml"), "utf8");
    const [a0, b0] = [panePid(w, "alpha-main"), panePid(w, "beta-main")];
    const refused = w.po(["restart", "alpha"]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /^po: restart: refusing to change the fleet without confirmation: no terminal; pass --yes\n$/,
    );
    const r = w.po(["restart", "alpha", "--yes"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^alpha {2}~ restart \(po restart: 1\/1 sessions live\)\n\nPlan: 1 to restart\.\n/);
    assert.match(r.stdout, /^Restart complete: 2 succeeded, 0 failed, 0 skipped\.$/m);
    assert.notEqual(panePid(w, "alpha-main"), a0);
    assert.equal(panePid(w, "beta-main"), b0);
    assert.equal(readFileSync(join(w.root, "fleet.toml"), "utf8"), fleet);
  });

  it("po history lists the applies and restarts, newest first; po history PLANID one of them", () => {
    const r = w.po(["history", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const list = JSON.parse(r.stdout) as { plan: string; verb: string; outcome: string }[];
    assert.equal(list[0].verb, "restart");
    for (const id of ids)
      assert.ok(
        list.some((e) => e.plan === id),
        `apply ${id} listed`,
      );
    const text = w.po(["history", "--limit", "2"]).stdout.trim().split("\n");
    assert.equal(text.length, 3);
    assert.match(text[1], /^\S+ +[0-9a-f]{8} +restart +alpha: stop, alpha: start +converged +\d+\.\ds$/);
    const one = w.po(["history", ids[0].slice(0, 8)]);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, new RegExp(`^apply of plan ${ids[0]}, started .*: converged in `));
    assert.match(one.stdout, /^alpha +start +ok +\d+\.\ds/m);
    assert.equal(w.po(["history", "zzzz"]).code, 1);
  });

  it("po show prints a saved plan and warns when it is stale instead of refusing", () => {
    w.tmux("kill-session", "-t", "=beta-main");
    const file = join(w.root, "beta.plan");
    assert.equal(w.po(["plan", "beta", "--out", file]).code, 0);
    const fresh = w.po(["show", file]);
    assert.equal(fresh.code, 0, fresh.stderr);
    assert.match(fresh.stdout, /for beta:\n\nbeta {2}\+ start .*\n\nPlan: 1 to start\.\n$/);
    assert.equal(fresh.stderr, "");
    assert.equal(w.po(["apply", file]).code, 0);
    const stale = w.po(["show", file]);
    assert.equal(stale.code, 0);
    assert.match(stale.stderr, /^po: warning: plan .* is stale: it was already applied; po apply would refuse it/);
  });

  it("waits for the lock with a line saying so", () => {
    const holder: ChildProcess = spawn("sleep", ["60"], { stdio: "ignore" });
    try {
      const lock = { pid: holder.pid, host: hostname(), started: new Date().toISOString() };
      writeFileSync(join(w.root, ".ao-state", "apply.lock"), JSON.stringify(lock));
      const r = w.po(["apply", "--yes", "--lock-timeout", "1"]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`^po: waiting for another apply to finish \\(pid ${holder.pid} on `));
      assert.match(r.stderr, /\npo: another apply holds the lock /);
    } finally {
      holder.kill();
      rmSync(join(w.root, ".ao-state", "apply.lock"), { force: true });
    }
  });

  it("a pin line where only the submodule's checkout differs says so", () => {
    const engine = join(w.root, "alpha", "engine");
    const pinned = w.git(engine, "rev-parse", "HEAD").trim();
    w.git(engine, "checkout", "-q", "v0.1.0");
    try {
      const r = w.po(["plan", "alpha"]);
      assert.equal(
        r.stdout.split("\n")[0],
        `alpha  ~ pin h v0.2.0 (${pinned.slice(0, 7)}): only the submodule's checkout differs; check it out, restart`,
      );
      assert.match(r.stdout, /^Plan: 1 to pin, 1 to restart\.$/m);
    } finally {
      w.git(engine, "checkout", "-q", pinned);
    }
  });

  it("completes verbs, options, project names from fleet.toml and agent names, in real bash", () => {
    const bin = join(w.root, "bin");
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, "po"), `#!/bin/sh\nexec ${shellQuote(process.execPath)} ${shellQuote(CLI)} "$@"\n`);
    chmodSync(join(bin, "po"), 0o755);
    const script =
      'source <(po completion bash); COMP_WORDS=(po logs alpha ""); COMP_CWORD=3; _po; echo "${COMPREPLY[*]}"';
    const bash = spawnSync("bash", ["-c", script], {
      cwd: w.root,
      env: { ...w.env, PATH: `${bin}:${w.env.PATH}` },
      encoding: "utf8",
      timeout: 30_000,
    });
    assert.equal(bash.stdout, "main\n", bash.stderr);
    const complete = (...words: string[]) => w.po(["completion", "complete", "--", ...words]).stdout;
    assert.equal(complete("res"), "restart\n");
    assert.equal(complete("plan", "--detailed-e"), "--detailed-exitcode\n");
    assert.equal(complete("plan", ""), "alpha\nbeta\n");
    assert.equal(complete("status", "--exclude", "b"), "beta\n");
    assert.equal(complete("logs", "alpha", ""), "main\n");
    assert.equal(complete("agents", "s"), "status\n");
  });
});
