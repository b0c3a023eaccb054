// A full disk under .ao-state: po says in one line per failure what it did and what it could not
// record where, never a stack trace, never an internal error, and never reports as stopped a session
// tmux still has. The disk is a small tmpfs mounted on .ao-state (root only: skipped otherwise),
// filled to its last byte while a gated harness or git hook holds the apply mid-action.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  agentsFolder,
  makeProject,
  makeWorld,
  noStackTrace,
  oneLine,
  panePid,
  until,
  type World,
} from "./support/world.js";
import { dispose, gate, lockPath, poBackground, processGone, rev, writeFleetOf } from "./support/apply-world.js";
import { fill, leaveRoom, mountSmall, poLines } from "./support/disk.js";

const SAID_STOPPED = /harness down was run|stopped|killed/;

describe("apply with a full disk under .ao-state, mid-apply", () => {
  let w: World;
  const state = () => join(w.root, ".ao-state");
  before(() => {
    w = makeWorld();
    makeProject(w, "alpha", "v0.1.0");
    makeProject(w, "beta", "v0.1.0");
  });
  after(() => dispose(w));

  /** Runs apply held at `g`, fills the disk when it is reached, lets it go on; its result. */
  async function applyFilled(g: ReturnType<typeof gate>) {
    const run = poBackground(w, ["apply", "--yes", "--parallelism", "1"]);
    await until(() => spawnSync("test", ["-e", g.reached]).status === 0, 60_000, "the apply to reach its gate");
    fill(state(), [join(state(), "journal.jsonl")]);
    g.open();
    const r = await run.done;
    g.close();
    return r;
  }

  it("a start: its agents run, po says it could not record that, and no new action starts", async (t) => {
    if (!mountSmall(t, state())) return;
    const g = gate(w, "start");
    const up = ["sh", "-c", `${g.wait}; exec node engine/harness.mjs up`];
    writeFleetOf(w, { alpha: { ref: "v0.1.0", harness: "g" }, beta: { ref: "v0.1.0" } }, { g: { up } });
    const r = await applyFilled(g);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const lines = poLines(r.stderr);
    assert.ok(
      lines.includes(
        `po: alpha: start ok, but it could not be recorded in ${state()}/journal.jsonl: no space left on device`,
      ),
      r.stderr,
    );
    assert.ok(
      lines.some((l) =>
        /^po: the fleet's inventory .* could not be recorded in \S+inventory\.json: no space left on device$/.test(l),
      ),
      r.stderr,
    );
    assert.match(r.stdout, /^alpha: start ok/m);
    assert.match(
      r.stdout,
      /^beta: start skipped \(0\.0s\): po could not record the apply's state$/m,
      "no new action starts once po cannot record, and its line says why",
    );
    assert.doesNotMatch(r.stderr, SAID_STOPPED);
    assert.deepEqual(w.sessions(), ["alpha-a"], "alpha's agent runs (tmux), beta's was not started");
    assert.equal(spawnSync("test", ["-e", lockPath(w)]).status, 1, "the lock was released");
    w.tmux("kill-server");
  });

  it("a stop: its sessions are gone, and po says it could not record that", async (t) => {
    if (!mountSmall(t, state())) return;
    const g = gate(w, "stop");
    const down = ["sh", "-c", `${g.wait}; exec node engine/harness.mjs down`];
    writeFleetOf(w, { alpha: { ref: "v0.1.0", harness: "g", enabled: false } }, { g: { down } });
    w.tmux("new-session", "-d", "-s", "alpha-a", "-c", join(w.root, "alpha"), "sleep 3600");
    const r = await applyFilled(g);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.ok(
      poLines(r.stderr).includes(
        `po: alpha: stop ok, but it could not be recorded in ${state()}/journal.jsonl: no space left on device`,
      ),
      r.stderr,
    );
    assert.deepEqual(w.sessions(), [], "the stop happened (tmux)");
  });

  it("a pin: the commit is made, and po says it could not record that", async (t) => {
    if (!mountSmall(t, state())) return;
    const g = gate(w, "pin");
    const hook = join(w.root, "alpha", ".git", "hooks", "pre-commit");
    writeFileSync(hook, `#!/bin/sh\n${g.wait}\n`);
    chmodSync(hook, 0o755);
    writeFleetOf(w, { alpha: { ref: "v0.2.0", enabled: false } });
    const r = await applyFilled(g);
    rmSync(hook);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.ok(
      poLines(r.stderr).includes(
        `po: alpha: pin ok, but it could not be recorded in ${state()}/journal.jsonl: no space left on device`,
      ),
      r.stderr,
    );
    const pinned = w.git(join(w.root, "alpha"), "ls-tree", "HEAD", "engine").split(/\s/)[2];
    assert.equal(pinned, rev(w, w.harnessUrl, "v0.2.0^{commit}"), "the pin was committed (git)");
  });
});

describe("po agents with a full disk under .ao-state", () => {
  let w: World;
  let dir: string;
  const state = () => join(dir, ".ao-state");
  before(() => {
    w = makeWorld();
    dir = agentsFolder(
      w,
      '[watchdog]\ninterval_s = 1\n\n[agents.a]\ncommand = ["sleep", "3600"]\nwatch = "heal"\n\n' +
        '[agents.b]\ncommand = ["sleep", "3600"]\nwatch = "none"\n',
    );
  });
  after(() => {
    w.po(["agents", "down"], { cwd: dir });
    w?.cleanup();
  });

  it("up on a full disk: one line naming the file, and no agent started", (t) => {
    if (!mountSmall(t, state())) return;
    fill(state(), []);
    const r = w.po(["agents", "up"], { cwd: dir });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(
      oneLine(r.stderr),
      /^po: could not write \S+\/p\/\.ao-state\/\S+: no space left on device; no agent was started$/,
    );
    assert.deepEqual(w.sessions(), [], "nothing started (tmux)");
  });

  it("the heal watchdog restarts an agent on a full disk and lives on; down then stops everything", async (t) => {
    if (!mountSmall(t, state())) return;
    const r = w.po(["agents", "up", "--json"], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const watchdog = (JSON.parse(r.stdout) as { watchdog: { pid: number } }).watchdog.pid;
    const first = panePid(w, "p-a");
    fill(
      state(),
      ["logs/a.log", "logs/b.log", "logs/watchdog.log"].map((f) => join(state(), f)),
    );
    w.tmux("kill-session", "-t", "=p-a");
    await until(
      () => !["", first].includes(panePid(w, "p-a")),
      30_000,
      "the watchdog to restart agent a on the full disk",
    );
    assert.equal(processGone(watchdog), false, "the watchdog lives on");
    const down = w.po(["agents", "down"], { cwd: dir });
    assert.equal(down.code, 0, down.stderr);
    noStackTrace(down.stdout + down.stderr);
    assert.match(down.stdout, new RegExp(`^watchdog: stopped pid ${watchdog}$`, "m"));
    assert.deepEqual(w.sessions(), [], "every agent stopped (tmux)");
    await until(() => processGone(watchdog), 15_000, "the watchdog to end");
  });
});

describe("po forget with a full disk", () => {
  let w: World;
  before(() => {
    w = makeWorld();
    makeProject(w, "alpha", "v0.1.0");
    makeProject(w, "beta", "v0.1.0");
  });
  after(() => dispose(w));

  /** fleet.toml of alpha and beta, running, at `fleet` (their locations absolute), applied. */
  function applied(fleet: string): void {
    const at = (n: string) => ({ ref: "v0.1.0", location: join(w.root, n) });
    copyFileSync(writeFleetOf(w, { alpha: at("alpha"), beta: at("beta") }), fleet);
    const r = w.po(["apply", "--yes", "--fleet", fleet]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(w.sessions(), ["alpha-a", "beta-a"]);
  }
  const bytes = (file: string) => readFileSync(file, "utf8");

  it("the inventory cannot be written: fleet.toml is not edited, so no apply stops the project", (t) => {
    const state = join(w.root, "a", ".ao-state");
    if (!mountSmall(t, state)) return;
    const fleet = join(w.root, "a", "fleet.toml");
    applied(fleet);
    const [toml, inventory] = [bytes(fleet), bytes(join(state, "inventory.json"))];
    // room for the fleet lock, not for the inventory too: the disk fills between two writes
    fill(state, [join(state, "journal.jsonl")]);
    leaveRoom(state, 1);
    const r = w.po(["forget", "beta", "--yes", "--fleet", fleet]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal(
      oneLine(r.stderr),
      `po: could not write ${state}/inventory.json: no space left on device; ${fleet} was not changed`,
    );
    assert.equal(bytes(fleet), toml, "fleet.toml still has beta");
    assert.equal(bytes(join(state, "inventory.json")), inventory);
    rmSync(join(state, "filler"));
    const plan = w.po(["plan", "--detailed-exitcode", "--fleet", fleet]);
    assert.equal(plan.code, 0, `nothing to do, beta's agents are not stopped:\n${plan.stdout}${plan.stderr}`);
    assert.equal(w.po(["forget", "beta", "--yes", "--fleet", fleet]).code, 0, "with room, forget works");
    assert.equal(w.po(["plan", "--detailed-exitcode", "--fleet", fleet]).code, 0, "forgotten, and not stopped");
    assert.deepEqual(w.sessions(), ["alpha-a", "beta-a"]);
  });

  it("fleet.toml cannot be written: the inventory is put back byte for byte", (t) => {
    const dir = join(w.root, "b");
    const state = join(dir, ".ao-state");
    if (!mountSmall(t, dir) || !mountSmall(t, state)) return;
    const fleet = join(dir, "fleet.toml");
    applied(fleet);
    const [toml, inventory] = [bytes(fleet), bytes(join(state, "inventory.json"))];
    fill(dir, []); // a new file, as fleet.toml is written, finds no page
    const r = w.po(["forget", "beta", "--yes", "--fleet", fleet]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal(oneLine(r.stderr), `po: could not write ${fleet}: no space left on device; it was not changed`);
    assert.equal(bytes(fleet), toml);
    assert.equal(bytes(join(state, "inventory.json")), inventory, "the inventory still has beta");
    assert.deepEqual(
      [...readdirSync(dir), ...readdirSync(state)].filter((f) => /\.\d+\.(tmp|old)$/.test(f)),
      [],
      "no file of the failed edit is left",
    );
  });
});
