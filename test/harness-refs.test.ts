// Refs are resolved once per harness, in po's mirror of it, as `git rev-parse --verify REF^{commit}`
// in the harness repository says (git is the oracle); every project gets the same answer whatever
// its own checkout has fetched; a moved branch says so; an in-sync fleet asks git nothing per project.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { HarnessSpec } from "../reconcile/model.js";
import { resolver } from "../src/observe/resolve-ref.js";
import { makeProject, makeWorld, writeFleet, type World } from "./support/world.js";

let w: World;
const git = (dir: string, ...args: string[]) => w.git(dir, ...args).trim();
const harness = (url: string): HarnessSpec => ({
  name: "h",
  url,
  path: "engine",
  up: ["true"],
  down: ["true"],
  session: "{dir}-{agent}",
  timeoutMs: 1000,
});

/** What git itself says REF is in the repository at `dir`, or undefined when git says "no such commit". */
function revParse(dir: string, ref: string): string | undefined {
  try {
    return git(dir, "rev-parse", "--verify", "-q", "--end-of-options", `${ref}^{commit}`);
  } catch (e) {
    // --verify -q answers "none" with exit 1 and nothing on stderr; any other failure is git's, not an answer
    const { status, stderr } = e as { status?: number; stderr?: string };
    if (status === 1 && !stderr) return undefined;
    throw e;
  }
}

interface PlanJson {
  actions: { project: string; kind: string; to?: string; reason: string }[];
  errors: { project: string; message: string }[];
}

function plan(...args: string[]): PlanJson {
  const r = w.po(["plan", "--json", ...args]);
  assert.ok(r.code === 0 || r.code === 1, r.stdout + r.stderr); // 1: some project has an error
  return JSON.parse(r.stdout) as PlanJson;
}

before(() => {
  w = makeWorld("po-refs-");
  for (const k of Object.keys(process.env)) if (!(k in w.env)) delete process.env[k];
  Object.assign(process.env, w.env);
  const h = w.harnessUrl;
  git(h, "tag", "-a", "v0.1.0-signed", "-m", "a tag of a tag", "v0.1.0");
  git(h, "tag", "both", "main");
  git(h, "branch", "both", "v0.2.0");
});

after(() => w?.cleanup());

describe("refs, once per harness", () => {
  it("resolves as git rev-parse --verify REF^{commit} in the harness repository", async () => {
    const h = w.harnessUrl;
    const refs = ["v0.1.0", "v0.2.0", "main", "v0.1.0-signed", "both", "refs/tags/v0.2.0", "nope"];
    refs.push(git(h, "rev-parse", "v0.1.0"), git(h, "rev-parse", "--short", "v0.2.0"), "0".repeat(40));
    const state = join(w.root, "a", ".ao-state");
    const r = resolver(false, state);
    r.prepare(harness(h), refs);
    for (const ref of refs) {
      const got = await r.resolve(harness(h), ref);
      assert.equal(got.commit, revParse(h, ref), `${ref}: ${got.error}`);
      if (!got.commit) assert.match(got.error!, /unknown (ref|commit) '.*' of harness 'h'/);
    }
    assert.equal((await r.resolve(harness(h), "main")).branch, true);
    assert.equal((await r.resolve(harness(h), "both")).branch, undefined, "a tag wins over a branch");
    assert.equal(await r.tagOf(harness(h), revParse(h, "v0.2.0")!), "v0.2.0");
    // the mirror is po's alone
    const walk = (d: string): string[] =>
      readdirSync(d, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? [join(d, e.name), ...walk(join(d, e.name))] : [join(d, e.name)],
      );
    for (const f of walk(join(state, "harnesses"))) {
      const mode = statSync(f).mode & 0o777;
      assert.ok(mode === 0o700 || mode === 0o600 || mode === 0o400, `${f}: ${mode.toString(8)}`);
    }
  });

  it("resolves in SHA-256 harnesses too", async () => {
    const h = join(w.root, "h256");
    mkdirSync(h);
    git(h, "init", "-q", "--object-format=sha256");
    writeFileSync(join(h, "f"), "x\n");
    git(h, "add", ".");
    git(h, "commit", "-qm", "x");
    git(h, "tag", "-a", "v1", "-m", "v1");
    const r = resolver(false, join(w.root, "256", ".ao-state"));
    for (const ref of ["v1", "main", git(h, "rev-parse", "v1")])
      assert.equal((await r.resolve(harness(h), ref)).commit, revParse(h, ref));
    assert.equal(revParse(h, "v1")?.length, 64);
  });

  it("gives every project the same pin whatever its checkout fetched; a moved branch says so", () => {
    const [a, b, c] = ["pa", "pb", "pc"].map((n) => makeProject(w, n, "v0.1.0"));
    // pb's checkout has its own idea of v0.2.0, pc's knows no v0.2.0 at all
    git(join(b, "engine"), "tag", "-f", "v0.2.0", "v0.1.0");
    git(join(c, "engine"), "tag", "-d", "v0.2.0");
    writeFleet(w, { pa: { ref: "v0.2.0" }, pb: { ref: "v0.2.0" }, pc: { ref: "v0.2.0" }, pd: { ref: "f".repeat(40) } });
    makeProject(w, "pd", "v0.1.0");
    const p = plan();
    const want = revParse(w.harnessUrl, "v0.2.0");
    assert.deepEqual(
      p.actions.filter((x) => x.kind === "pin").map((x) => [x.project, x.to]),
      [
        ["pa", want],
        ["pb", want],
        ["pc", want],
      ],
    );
    assert.match(p.errors.find((e) => e.project === "pd")?.message ?? "", /unknown commit 'f{40}'/);
    for (const d of [a, b, c]) git(join(d, "engine"), "checkout", "-q", "main");
    for (const d of [a, b, c]) git(d, "commit", "-qam", "pin main");
    writeFleet(w, { pa: { ref: "main", enabled: false } });
    assert.equal(w.po(["plan", "--detailed-exitcode"]).code, 0, "in sync on main");
    writeFileSync(join(w.harnessUrl, "VERSION"), "0.4.0\n");
    git(w.harnessUrl, "commit", "-qam", "main moves on");
    const moved = plan().actions.find((x) => x.kind === "pin");
    assert.match(moved?.reason ?? "", /branch main moved/);
    assert.equal(moved?.to, revParse(w.harnessUrl, "main"));
    // offline: what the mirror and the checkouts already have, nothing fetched
    git(w.harnessUrl, "tag", "v0.4.0");
    writeFleet(w, { pa: { ref: "v0.4.0", enabled: false } });
    assert.match(plan("--offline").errors[0]?.message ?? "", /offline/);
    assert.equal(plan().actions.find((x) => x.kind === "pin")?.to, revParse(w.harnessUrl, "v0.4.0"));
  });

  it("plans and reports an in-sync fleet without a git process per project", () => {
    const dir = join(w.root, "quiet");
    mkdirSync(dir);
    for (const n of ["q1", "q2", "q3"]) makeProject(w, join("quiet", n), "v0.1.0");
    writeFleet(w, Object.fromEntries(["q1", "q2", "q3"].map((n) => [n, { ref: "v0.1.0", location: `quiet/${n}` }])));
    for (const n of ["q1", "q2", "q3"]) w.tmux("new-session", "-d", "-s", `${n}-a`, "sleep 600");
    const bin = join(w.root, "spy-bin");
    const calls = join(w.root, "git-calls.log");
    mkdirSync(bin);
    const realGit = execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim();
    writeFileSync(join(bin, "git"), `#!/bin/sh\necho "$(pwd -P) $*" >> '${calls}'\nexec '${realGit}' "$@"\n`, {
      mode: 0o755,
    });
    const path = w.env.PATH;
    w.env.PATH = `${bin}:${path}`;
    try {
      for (const verb of [["plan", "--detailed-exitcode"], ["status"]]) {
        const r = w.po(verb);
        assert.equal(r.code, 0, `po ${verb[0]}: ${r.stdout}${r.stderr}`);
      }
      assert.match(w.po(["status"]).stdout, /q1 .*\(v0\.1\.0\).*in sync/);
    } finally {
      w.env.PATH = path;
    }
    const log = readFileSync(calls, "utf8").trim().split("\n");
    const elsewhere = log.filter((l) => !l.startsWith(join(w.root, ".ao-state", "harnesses")));
    assert.deepEqual(elsewhere, [], "git ran only in the harness mirror");
    assert.ok(log.length <= 10, `a few git calls for the whole fleet (a clone of the mirror at most): ${log.length}`);
  });
});
