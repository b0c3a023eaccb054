// po plan / apply / status against real git repositories and a real, isolated tmux server.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  makeProject,
  makeWorld,
  oneLine,
  panePid,
  snapshot,
  writeFleet,
  type FleetProject,
  type World,
} from "./support/world.js";

interface PlanJson {
  format: string;
  id: string;
  fingerprint: string;
  actions: { project: string; kind: string; ref?: string; to?: string }[];
  errors: { project: string; message: string }[];
}

function kinds(plan: PlanJson): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const a of plan.actions) (out[a.project] ??= []).push(a.kind);
  return out;
}

function planJson(w: World, ...extra: string[]): { code: number; plan: PlanJson } {
  const r = w.po(["plan", "--json", "--detailed-exitcode", ...extra]);
  assert.ok(r.stdout.startsWith("{"), `plan --json printed JSON (stderr: ${r.stderr})`);
  return { code: r.code, plan: JSON.parse(r.stdout) as PlanJson };
}

describe("four projects: start, stop, re-pin, in sync", () => {
  let w: World;
  const dirs: Record<string, string> = {};
  before(() => {
    w = makeWorld();
    dirs.alpha = makeProject(w, "alpha", "v0.2.0"); // enabled, stopped
    dirs.beta = makeProject(w, "beta", "v0.2.0"); // disabled, running
    dirs.gamma = makeProject(w, "gamma", "v0.1.0"); // enabled, running, needs v0.2.0
    dirs.delta = makeProject(w, "delta", "v0.2.0"); // enabled, running, in sync
    for (const p of ["beta", "gamma", "delta"]) assert.equal(w.po(["agents", "up", "--dir", dirs[p]]).code, 0);
    writeFleet(w, {
      alpha: { ref: "v0.2.0" },
      beta: { ref: "v0.2.0", enabled: false },
      gamma: { ref: "v0.2.0" },
      delta: { ref: "v0.2.0" },
    });
  });
  after(() => w?.cleanup());

  it("plans exactly start; stop; stop, pin, start; nothing — and changes nothing", () => {
    const before = Object.fromEntries(Object.entries(dirs).map(([n, d]) => [n, snapshot(w, d)]));
    const sessions = w.sessions();
    const { code, plan } = planJson(w);
    assert.equal(code, 2);
    assert.equal(plan.format, "po-plan/1");
    assert.deepEqual(kinds(plan), { alpha: ["start"], beta: ["stop"], gamma: ["stop", "pin", "start"] });
    assert.deepEqual(plan.errors, []);
    assert.equal(
      plan.actions.find((a) => a.kind === "pin")?.to,
      w.git(w.harnessUrl, "rev-parse", "v0.2.0^{commit}").trim(),
    );
    for (const [n, d] of Object.entries(dirs)) assert.equal(snapshot(w, d), before[n], `${n} unchanged by plan`);
    assert.deepEqual(w.sessions(), sessions);
  });

  it("renders the plan for a human", () => {
    const r = w.po(["plan"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /gamma {2}~ pin h v0\.1\.0 → v0\.2\.0 \([0-9a-f]{7} → [0-9a-f]{7}\), restart/);
    assert.match(r.stdout, /alpha {2}\+ start/);
    assert.match(r.stdout, /beta {3}- stop/);
    assert.match(r.stdout, /Plan: 1 to pin, 1 to restart, 1 to start, 1 to stop\./);
    assert.doesNotMatch(r.stdout, /\x1b\[/, "no colour without a terminal");
  });

  it("apply refuses to run unattended without --yes", () => {
    const r = w.po(["apply"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--yes/);
    assert.equal(w.po(["plan", "--detailed-exitcode"]).code, 2, "nothing was applied");
  });

  it("apply --yes converges, re-pins only engine, leaves the in-sync project alone", () => {
    const deltaPid = panePid(w, "delta-a");
    const gammaHead = w.git(dirs.gamma, "rev-parse", "HEAD").trim();
    const r = w.po(["apply", "--yes"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /converged/);
    assert.deepEqual(w.sessions(), ["alpha-a", "delta-a", "gamma-a"]);
    assert.equal(panePid(w, "delta-a"), deltaPid, "in-sync project not restarted");
    assert.equal(w.git(dirs.gamma, "rev-parse", "HEAD~1").trim(), gammaHead, "one new commit");
    assert.equal(w.git(dirs.gamma, "show", "--name-only", "--format=", "HEAD").trim(), "engine");
    const message = w.git(dirs.gamma, "log", "-1", "--format=%B");
    assert.match(message, /h v0\.1\.0 → v0\.2\.0/);
    assert.match(message, /harness 0\.2\.0/, "names the commits between");
    assert.equal(
      w.git(join(dirs.gamma, "engine"), "rev-parse", "HEAD").trim(),
      w.git(w.harnessUrl, "rev-parse", "v0.2.0").trim(),
    );
    assert.equal(w.git(dirs.gamma, "status", "--porcelain").trim(), "");
    assert.equal(w.po(["plan", "--detailed-exitcode"]).code, 0);
  });

  it("status shows every project in sync with its pinned tag", () => {
    const r = w.po(["status", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as {
      projects: { name: string; state: string; pinnedTag?: string; sessions: { live: number } }[];
      lastApply: { failed: number };
    };
    assert.deepEqual(
      s.projects.map((p) => [p.name, p.state]),
      [
        ["alpha", "in sync"],
        ["beta", "in sync"],
        ["delta", "in sync"],
        ["gamma", "in sync"],
      ],
    );
    assert.equal(s.projects.find((p) => p.name === "gamma")?.pinnedTag, "v0.2.0");
    assert.equal(s.lastApply.failed, 0);
    assert.match(w.po(["status"]).stdout, /gamma .*h@v0\.2\.0 .*\(v0\.2\.0\) +1\/1 +in sync/);
  });
});

describe("one project's error does not stop the others", () => {
  let w: World;
  before(() => {
    w = makeWorld();
    makeProject(w, "good", "v0.1.0");
    makeProject(w, "bad", "v0.1.0");
    writeFleet(w, { good: { ref: "v0.2.0" }, bad: { ref: "v9.9.9" } });
  });
  after(() => w?.cleanup());

  it("unknown ref fails one project while the others converge", () => {
    const { code, plan } = planJson(w);
    assert.equal(code, 1);
    assert.deepEqual(kinds(plan), { good: ["pin", "start"] });
    assert.match(plan.errors[0].message, /unknown ref 'v9\.9\.9'/);
    const r = w.po(["apply", "--yes"]);
    assert.equal(r.code, 1);
    assert.deepEqual(w.sessions(), ["good-a"]);
    assert.equal(w.po(["plan", "--target", "good", "--detailed-exitcode"]).code, 0);
  });

  it("--target with an unknown name is an error with a suggestion", () => {
    const r = w.po(["plan", "--target", "godo"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /unknown project 'godo' \(did you mean 'good'\?\)/);
  });
});

describe("clone, heal, branch refs and removed projects", () => {
  let w: World;
  // Each scenario adds its project to the same fleet; dropping one would plan a stop of it.
  const fleet: Record<string, FleetProject> = {};
  const add = (name: string, p: FleetProject) => writeFleet(w, Object.assign(fleet, { [name]: p }));
  before(() => {
    w = makeWorld();
  });
  after(() => w?.cleanup());

  it("clones a missing project from its url, pins and starts it", () => {
    const origin = makeProject(w, "origin-repo", "v0.1.0");
    add("cloned", { ref: "v0.2.0", url: origin });
    const { plan } = planJson(w);
    assert.deepEqual(kinds(plan), { cloned: ["clone"] });
    const r = w.po(["apply", "--yes"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(
      w.git(join(w.root, "cloned", "engine"), "rev-parse", "HEAD").trim(),
      w.git(w.harnessUrl, "rev-parse", "v0.2.0").trim(),
    );
    assert.deepEqual(w.sessions(), ["cloned-a"]);
    assert.equal(w.po(["plan", "--detailed-exitcode"]).code, 0);
  });

  it("heals a degraded project with up, without touching the live session", () => {
    const dir = makeProject(w, "duo", "v0.2.0", ["a", "b"]);
    add("duo", { ref: "v0.2.0" });
    w.po(["agents", "up", "--dir", dir]);
    w.tmux("kill-session", "-t", "=duo-b");
    const pid = panePid(w, "duo-a");
    assert.deepEqual(kinds(planJson(w).plan), { duo: ["start"] });
    assert.equal(w.po(["apply", "--yes"]).code, 0);
    assert.equal(panePid(w, "duo-a"), pid);
    assert.ok(w.sessions().includes("duo-b"));
  });

  it("follows a branch ref that moved upstream", () => {
    const dir = makeProject(w, "edge", "main");
    add("edge", { ref: "main", enabled: false });
    assert.equal(planJson(w).code, 0, "in sync at main");
    writeFileSync(join(w.harnessUrl, "VERSION"), "0.4.0-dev\n");
    w.git(w.harnessUrl, "commit", "-qam", "harness moves on");
    const { plan } = planJson(w);
    assert.deepEqual(kinds(plan), { edge: ["pin"] });
    assert.equal(plan.actions[0].to, w.git(w.harnessUrl, "rev-parse", "main").trim());
    assert.equal(w.po(["apply", "--yes"]).code, 0);
    assert.equal(
      w.git(join(dir, "engine"), "rev-parse", "HEAD").trim(),
      w.git(w.harnessUrl, "rev-parse", "main").trim(),
    );
  });

  it("stops a project removed from fleet.toml and keeps its files", () => {
    const dir = makeProject(w, "leaver", "v0.2.0");
    add("leaver", { ref: "v0.2.0" });
    assert.equal(w.po(["apply", "--yes"]).code, 0);
    assert.ok(w.sessions().includes("leaver-a"));
    delete fleet.leaver;
    writeFleet(w, fleet);
    const { plan } = planJson(w);
    assert.deepEqual(kinds(plan), { leaver: ["stop"] });
    assert.match(
      w.po(["status"]).stdout,
      /leaver .* removed \(left fleet\.toml; po apply stops its 1 live session\(s\)\)/,
    );
    assert.equal(w.po(["apply", "--yes"]).code, 0);
    assert.ok(!w.sessions().includes("leaver-a"));
    assert.equal(w.git(dir, "status", "--porcelain").trim(), "");
    assert.equal(planJson(w).code, 0, "removed project forgotten once stopped");
  });
});

describe("bad input ends in one clear line per project", () => {
  let w: World;
  before(() => {
    w = makeWorld();
    writeFileSync(join(w.root, "afile"), "not a project\n");
    makeProject(w, "ok", "v0.2.0");
    writeFleet(w, { afile: { ref: "v0.2.0" }, ok: { ref: "v0.2.0" } });
    // A second harness whose up names a program that does not exist.
    writeFileSync(
      join(w.root, "fleet.toml"),
      readFileSync(join(w.root, "fleet.toml"), "utf8").replace(
        'up = ["node", "engine/harness.mjs", "up"]',
        'up = ["no-such-program-po"]',
      ),
    );
  });
  after(() => w?.cleanup());

  it("a location that is a file, and a harness program that is missing", () => {
    const r = w.po(["apply", "--yes"]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /afile {2}! error: location .*afile exists but is not a git repository/);
    assert.match(
      r.stdout,
      /ok: start FAILED .*program 'no-such-program-po' not found .*fix up of \[harnesses\.h\] in fleet\.toml/,
    );
    assert.doesNotMatch(r.stdout + r.stderr, /internal error|\n\s+at /);
    assert.equal(readFileSync(join(w.root, "afile"), "utf8"), "not a project\n");
  });

  it("bad numbers for --parallelism and --lock-timeout are refused in one line", () => {
    for (const [opt, value, min] of [
      ["--parallelism", "0", 1],
      ["--lock-timeout", "-1", 0],
      ["--parallelism", "two", 1],
    ] as const) {
      const r = w.po(["apply", "--yes", `${opt}=${value}`]);
      assert.equal(r.code, 1);
      assert.equal(r.stderr, `po: apply: ${opt} must be a whole number of ${min} or more, not '${value}'\n`);
    }
    const ambiguous = w.po(["apply", "--yes", "--lock-timeout", "-1"]);
    assert.equal(ambiguous.code, 1);
    oneLine(ambiguous.stderr);
  });
});
