// Safe apply (issue 6): Ctrl-C and kill -9 during an apply, and at the question. Real git, real
// (isolated) tmux; every process a test starts is waited for or proven gone.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { makeProject, makeWorld, poInPane, screen as screenOf, snapshot, until, type World } from "./support/world.js";
import { jsonIfPresent } from "./support/world.js";
import {
  journalOf,
  lockPath,
  poBackground,
  processGone,
  writeFleetOf,
  dispose,
  conflictingBranches,
  gate,
  gated,
  reachedGate,
  type Gate,
} from "./support/apply-world.js";

describe("Ctrl-C and kill -9 during apply", () => {
  let w: World;
  let g: Gate;
  const gatedFleet = () =>
    writeFleetOf(
      w,
      { s1: { ref: "v0.2.0", harness: "slowh" }, s2: { ref: "v0.2.0", harness: "slowh" } },
      { slowh: gated(g) },
    );
  before(() => {
    w = makeWorld();
    g = gate(w, "s");
    for (const n of ["s1", "s2"]) makeProject(w, n, "v0.2.0");
    gatedFleet();
  });
  after(() => dispose(w));

  it("Ctrl-C: the running action finishes, no new one starts, the lock is released, a summary, exit 130", async () => {
    const apply = poBackground(w, ["apply", "--yes", "--parallelism", "1"]);
    await reachedGate(g, "s1's start");
    process.kill(apply.pid, "SIGINT");
    await until(() => apply.output().includes("interrupted: finishing"), 15_000, "the interrupt to be heard");
    g.open();
    const r = await apply.done;
    assert.equal(r.code, 130, r.stdout + r.stderr);
    assert.match(r.stderr, /interrupted: finishing the running actions, starting no new ones/);
    assert.match(r.stdout, /s1: start ok/);
    assert.match(r.stdout, /^s2: start skipped \(0\.0s\): interrupted$/m);
    assert.match(r.stdout, /Apply interrupted: 1 succeeded, 0 failed, 1 skipped\./);
    assert.deepEqual(w.sessions(), ["s1-a"]);
    assert.ok(!existsSync(lockPath(w)), "the lock is released");
    const j = journalOf(w).map((l) => [l.event, l.project, l.action, l.outcome].filter(Boolean).join(" "));
    assert.deepEqual(j, [
      "apply-start",
      "start s1 start",
      "end s1 start ok",
      "end s2 start skipped",
      "apply-end interrupted",
    ]);
    const s = w.po(["status"]);
    assert.match(s.stdout, /Last apply \(plan [0-9a-f]{8}, .*\) interrupted: 1 ok, 0 failed, 1 skipped\./);
  });

  it("Ctrl-C twice: the running harness is stopped too (its process group), exit 130", async () => {
    assert.equal(w.po(["agents", "down", "--dir", join(w.root, "s1")]).code, 0);
    writeFleetOf(
      w,
      { s1: { ref: "v0.2.0", harness: "forever" } },
      { forever: { up: ["sh", "-c", `echo $$ > ${join(w.root, "forever.pid")}; exec sleep 60`] } },
    );
    const apply = poBackground(w, ["apply", "--yes"]);
    await until(() => existsSync(join(w.root, "forever.pid")), 15_000, "the harness to run");
    process.kill(apply.pid, "SIGINT");
    await until(
      () => apply.output().includes("interrupted: finishing the running actions"),
      5000,
      "the first interrupt to be heard",
    );
    process.kill(apply.pid, "SIGINT");
    const r = await apply.done;
    assert.equal(r.code, 130, r.stdout + r.stderr);
    assert.match(r.stderr, /interrupted again: stopping the running harness processes/);
    assert.match(r.stdout, /s1: start FAILED .*harness 'forever' up \(sh -c .*\) was stopped: interrupted twice/);
    assert.ok(processGone(Number(readFileSync(join(w.root, "forever.pid"), "utf8"))), "the harness process is gone");
    assert.ok(!existsSync(lockPath(w)));
    gatedFleet();
  });

  it("kill -9 mid-run: status says so, the next apply takes the stale lock over and converges", async () => {
    w.po(["agents", "down", "--dir", join(w.root, "s1")]);
    g.close();
    const earlier = journalOf(w).length;
    const apply = poBackground(w, ["apply", "--yes"]);
    // both harness processes started and recorded in the lock (they then wait at the gate)
    const tracked = () => jsonIfPresent<{ children?: unknown[] }>(lockPath(w))?.children?.length ?? 0;
    await until(
      () =>
        journalOf(w)
          .slice(earlier)
          .filter((l) => l.event === "start").length === 2 && tracked() === 2,
      15_000,
      "both actions to start, their harness process groups recorded in the lock",
    );
    process.kill(apply.pid, "SIGKILL");
    assert.equal((await apply.done).signal, "SIGKILL");
    assert.ok(existsSync(lockPath(w)), "a killed apply leaves its lock");
    assert.match(
      w.po(["status"]).stdout,
      /Last apply .* did not finish \(its process was killed\): 0 ok, 0 failed, 0 skipped, 2 interrupted before finishing\./,
    );
    // The killed apply's harness processes still wait at the gate: the next apply must wait for them.
    const nextRun = poBackground(w, ["apply", "--yes"]);
    await until(
      () => /waiting for the harness process groups .* that the killed apply left running/.test(nextRun.output()),
      30_000,
      "the next apply to wait for the killed apply's harness processes",
    );
    g.open();
    const next = await nextRun.done;
    assert.equal(next.code, 0, next.stdout + next.stderr);
    assert.match(next.stderr, new RegExp(`took over a stale apply lock of pid ${apply.pid}`));
    // The killed apply's harness processes finished the starts: nothing is left to do.
    assert.match(next.stdout, /No changes/);
    assert.equal(w.po(["plan", "--detailed-exitcode"]).code, 0, "the next plan is empty");
    assert.deepEqual(w.sessions(), ["s1-a", "s2-a"]);
  });
});

describe("kill -9 while the harness runs, then the desired state flips", () => {
  let w: World;
  let dir: string;
  let g: Gate;
  let slowDown: ReturnType<typeof gated>;
  before(() => {
    w = makeWorld();
    g = gate(w, "down");
    slowDown = gated(g, "down");
    dir = makeProject(w, "flip", "v0.2.0");
    assert.equal(w.po(["agents", "up", "--dir", dir]).code, 0);
    writeFleetOf(w, { flip: { ref: "v0.2.0", harness: "slowdown", enabled: false } }, { slowdown: slowDown });
  });
  after(() => dispose(w));

  it("the next apply waits for the killed apply's harness before it plans, and converges", async () => {
    const apply = poBackground(w, ["apply", "--yes"]);
    await reachedGate(g, "the harness down");
    await until(
      () => (JSON.parse(readFileSync(lockPath(w), "utf8")) as { children?: unknown[] }).children?.length === 1,
      5000,
      "the harness to be recorded in the lock",
    );
    process.kill(apply.pid, "SIGKILL");
    await apply.done;
    const { children } = JSON.parse(readFileSync(lockPath(w), "utf8")) as { children: { pgid: number }[] };
    writeFleetOf(w, { flip: { ref: "v0.2.0", harness: "slowdown", enabled: true } }, { slowdown: slowDown });
    const nextRun = poBackground(w, ["apply", "--yes"]);
    const waiting = `waiting for the harness process group ${children[0].pgid} that the killed apply left running`;
    await until(() => nextRun.output().includes(waiting), 30_000, "the next apply to wait for the killed harness");
    assert.ok(!processGone(children[0].pgid), "the killed apply's harness still runs while the next one waits");
    g.open();
    const next = await nextRun.done;
    assert.equal(next.code, 0, next.stdout + next.stderr);
    assert.ok(processGone(children[0].pgid), "the killed apply's harness had finished before the plan was made");
    assert.match(next.stdout, /flip {2}\+ start/);
    assert.deepEqual(w.sessions(), ["flip-a"]);
    assert.equal(w.po(["plan", "--detailed-exitcode"]).code, 0);
  });
});

describe("at a terminal: Ctrl-C at the question, and a repository that changed while it was asked", () => {
  let w: World;
  let dir: string;
  before(() => {
    w = makeWorld();
    dir = makeProject(w, "alpha", "v0.1.0");
    writeFleetOf(w, { alpha: { ref: "v0.2.0", enabled: false } });
  });
  after(() => dispose(w));

  const pane = (name: string, args: string[]) => poInPane(w, name, args);
  const screen = (name: string) => screenOf(w, name);
  const question = (name: string) =>
    until(() => screen(name).includes("Only 'yes' will be accepted"), 15_000, "the question");

  it("Ctrl-C at the question: nothing changed, the lock released, exit 130", async () => {
    const snap = snapshot(w, dir);
    pane("ctrlc", ["apply"]);
    await question("ctrlc");
    w.tmux("send-keys", "-t", "=ctrlc:", "C-c");
    await until(() => /\[exit \d+\]/.test(screen("ctrlc")), 15_000, "apply to end");
    assert.match(screen("ctrlc"), /nothing was changed[\s\S]*\[exit 130\]/);
    assert.ok(!existsSync(lockPath(w)), "the lock is released");
    assert.equal(snapshot(w, dir), snap);
    assert.deepEqual(journalOf(w), []);
    w.tmux("kill-session", "-t", "=ctrlc");
  });

  it("a merge started while apply waited for yes: the pin is refused at the last moment, nothing changed", async () => {
    pane("late", ["apply"]);
    await question("late");
    conflictingBranches(w, dir);
    assert.throws(() => w.git(dir, "merge", "side"));
    const snap = snapshot(w, dir);
    w.tmux("send-keys", "-t", "=late:", "yes", "Enter");
    await until(() => /\[exit \d+\]/.test(screen("late")), 30_000, "apply to end");
    assert.match(
      screen("late").replace(/\n/g, ""),
      /alpha: pin FAILED .*cannot commit a new pin of engine in .*alpha: a merge is in progress; finish or abort it first \(nothing was changed\)/,
    );
    assert.match(screen("late"), /\[exit 1\]/);
    assert.equal(snapshot(w, dir), snap, "the merge in progress is untouched");
    w.tmux("kill-session", "-t", "=late");
  });
});
