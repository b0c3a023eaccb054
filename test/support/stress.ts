// kill -9 at chosen moments (the stress test files): applies, each on a fleet.toml changed at random so that a harness
// must run, each killed at a point picked at random (seeded: PO_STRESS_SEED=N reproduces a run's
// choices) among: right after it journals its start, after its first, second or third action
// starts, or while its harness waits at a gate the test holds closed; so every one of them is
// killed mid-run, whatever the machine's load. Each is followed by an apply that must take the stale
// lock over and converge; in the end every project must still hold exactly its files and commits,
// plus pin commits.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { makeProject, makeWorld, until, type World } from "./world.js";
import {
  gate,
  journalOf,
  lockPath,
  poBackground,
  rev,
  stopBackground,
  writeFleetOf,
  type JournalEntry,
  type ProjectDef,
} from "./apply-world.js";

const NAMES = ["p0", "p1", "p2"];
// A fast harness that keeps the contract (idempotent up/down of session {dir}-a) with one tmux
// call, so that twenty kills and their recoveries fit in well under a minute. (A killed apply's
// slow harness still running when the next apply starts is its own test in safe-apply.)
const SESSION = '"$(basename "$PWD")-a"';
const fast = (wait: string) => ({
  up: [
    "sh",
    "-c",
    `${wait}; tmux has-session -t =${SESSION} 2>/dev/null || tmux new-session -d -s ${SESSION} sleep 3600`,
  ],
  down: ["sh", "-c", `${wait}; tmux kill-session -t =${SESSION} 2>/dev/null; true`],
});

/** mulberry32: a tiny seeded PRNG, so that a failing run's choices can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomFleet(random: () => number): Record<string, ProjectDef> {
  return Object.fromEntries(
    NAMES.map((n) => [n, { ref: random() < 0.5 ? "v0.1.0" : "v0.2.0", enabled: random() < 0.75, harness: "fast" }]),
  );
}

/** A fleet different from `now` in a way that makes a harness run: a project starts, stops or is re-pinned live. */
function changedFleet(random: () => number, now: Record<string, ProjectDef>): Record<string, ProjectDef> {
  for (;;) {
    const next = randomFleet(random);
    const harnessRuns = NAMES.some(
      (n) => next[n].enabled !== now[n].enabled || (next[n].enabled && next[n].ref !== now[n].ref),
    );
    if (harnessRuns) return next;
  }
}

/** Every commit after the initial one is a pin commit that changed only engine. */
function onlyPinCommits(w: World, dir: string, initial: string): void {
  for (const c of w.git(dir, "rev-list", `${initial}..HEAD`).split("\n").filter(Boolean)) {
    assert.match(
      w.git(dir, "log", "-1", "--format=%s", c).trim(),
      /^Pin harness fast v0\.[12]\.0 → v0\.[12]\.0$/,
      `${dir}: ${c} is a pin commit`,
    );
    assert.equal(
      w.git(dir, "show", "--format=", "--name-only", c).trim(),
      "engine",
      `${dir}: ${c} changed only engine`,
    );
    assert.equal(w.git(dir, "rev-list", "--parents", "-1", c).trim().split(" ").length, 2, "one parent");
  }
}

/** "pin 5, start 3": the actions that started and never ended, by kind. */
function killedIn(journal: JournalEntry[]): string {
  const open = new Map<string, string>();
  for (const l of journal) {
    const key = `${l.plan} ${l.project} ${l.action}`;
    if (l.event === "start") open.set(key, l.action!);
    if (l.event === "end") open.delete(key);
  }
  const counts = new Map<string, number>();
  for (const kind of open.values()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${k} ${n}`).join(", ") || "none";
}

function fsckClean(w: World, dir: string): void {
  const out = w.git(dir, "fsck", "--no-dangling", "--no-progress");
  assert.doesNotMatch(out, /error|missing|broken|corrupt/i, `${dir}: git fsck is clean`);
}

/** One suite of `kills` applies killed at seeded points; `part` picks the seed (PO_STRESS_SEED + part). */
export function killAtRandom(kills: number, part: number): void {
  describe(`kill -9 at random moments (part ${part + 1})`, () => {
    let w: World;
    const dirs: Record<string, string> = {};
    const initial: Record<string, string> = {};
    const agentsToml: Record<string, string> = {};
    const seed = Number(process.env.PO_STRESS_SEED ?? 20240611) + part;
    before(() => {
      w = makeWorld("po-stress-");
      for (const n of NAMES) {
        dirs[n] = makeProject(w, n, "v0.1.0");
        initial[n] = rev(w, dirs[n]);
        agentsToml[n] = readFileSync(join(dirs[n], "agents.toml"), "utf8");
      }
    });
    after(async () => {
      await stopBackground();
      w?.cleanup();
    });

    it(`${kills} applies killed at seeded points, then one apply converges and nothing is lost (seed ${seed})`, async (t) => {
      const random = prng(seed);
      const g = gate(w, "harness");
      const FAST = fast(g.wait);
      g.open();
      let fleet = randomFleet(random);
      writeFleetOf(w, fleet, { fast: FAST });
      const first = w.po(["apply", "--yes"]);
      assert.equal(first.code, 0, first.stdout + first.stderr);
      const points: string[] = [];
      for (let i = 0; i < kills; i++) {
        fleet = changedFleet(random, fleet);
        writeFleetOf(w, fleet, { fast: FAST });
        g.close();
        const earlier = journalOf(w).length;
        const apply = poBackground(w, ["apply", "--yes"]);
        // 0: right after apply-start; 1-3: after that many actions started; 4: only at the gate
        const point = Math.floor(random() * 5);
        const starts = () =>
          journalOf(w)
            .slice(earlier)
            .filter((l) => l.event === (point ? "start" : "apply-start"));
        await until(
          () => existsSync(g.reached) || (point < 4 && starts().length >= Math.max(point, 1)),
          60_000,
          `apply ${i} to reach kill point ${point} (or its harness the gate)`,
        );
        process.kill(apply.pid, "SIGKILL");
        const r = await apply.done;
        assert.equal(r.signal, "SIGKILL", `apply ${i} was killed mid-run, not ended: ${r.stdout}${r.stderr}`);
        points.push(existsSync(g.reached) ? "gate" : String(point));
        g.open(); // the harness processes the killed apply left go on, and the next apply waits for them
        // The very next apply, on a fleet.toml changed again, takes over whatever the killed one
        // left (its lock, a half-done pin, harness processes still running) and converges.
        fleet = randomFleet(random);
        writeFleetOf(w, fleet, { fast: FAST });
        const next = w.po(["apply", "--yes"]);
        assert.equal(
          next.code,
          0,
          `the apply after kill ${i} (at ${points[i]}) converged:\n${next.stdout}${next.stderr}`,
        );
      }
      t.diagnostic(`kill points: ${points.join(" ")}; actions the applies were killed in: ${killedIn(journalOf(w))}`);

      const last = w.po(["apply", "--yes"]);
      assert.equal(last.code, 0, last.stdout + last.stderr);
      assert.equal(w.po(["plan", "--detailed-exitcode"]).code, 0, "the next plan is empty");
      assert.ok(!existsSync(lockPath(w)), "no lock left");
      assert.deepEqual(
        readdirSync(join(w.root, ".ao-state")).sort(),
        [".gitignore", "applied-plans", "harness", "harnesses", "inventory.json", "journal.jsonl"],
        "no stray state files",
      );
      assert.deepEqual(
        w.sessions(),
        NAMES.filter((n) => fleet[n].enabled).map((n) => `${n}-a`),
      );
      for (const n of NAMES) {
        const d = dirs[n];
        fsckClean(w, d);
        fsckClean(w, join(d, "engine"));
        onlyPinCommits(w, d, initial[n]);
        assert.equal(w.git(d, "symbolic-ref", "HEAD").trim(), "refs/heads/main", `${n} is still on main`);
        assert.equal(w.git(d, "status", "--porcelain", "--untracked-files=all"), "", `${n}: no change, staged or not`);
        assert.equal(readFileSync(join(d, "agents.toml"), "utf8"), agentsToml[n]);
        assert.ok(
          !existsSync(join(d, ".git", "index.lock")) && !existsSync(join(d, ".git", "modules", "engine", "index.lock")),
          `${n}: no index.lock left`,
        );
        assert.equal(
          rev(w, join(d, "engine")),
          rev(w, w.harnessUrl, `${fleet[n].ref}^{commit}`),
          `${n}: engine at ${fleet[n].ref}`,
        );
      }
    });
  });
}
