// po start, stop and update on several projects at once: --dry-run previews, one edit and one apply,
// the file written only after a confirmation, the journal's edit and pin records, --previous, and
// create --register --dry-run. Real repositories, a real tmux server.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { makeProject, makeWorld, poInPane, screen, until, writeFleet, type World } from "./support/world.js";

interface Line {
  event: string;
  verb?: string;
  action?: string;
  outcome?: string;
  changes?: { project: string; key: string; old?: unknown; new?: unknown }[];
  ref?: string;
  from?: string;
  to?: string;
  fromRef?: string;
  project?: string;
}

describe("edit verbs on several projects", () => {
  let w: World;
  let fleet: string;
  before(() => {
    w = makeWorld();
    for (const n of ["alpha", "beta", "gamma"]) makeProject(w, n, "v0.1.0");
    fleet = writeFleet(w, { alpha: { ref: "v0.1.0" }, beta: { ref: "v0.1.0" }, gamma: { ref: "v0.1.0" } });
    const r = w.po(["apply", "--yes"]);
    if (r.code !== 0) throw new Error(`fixture apply failed: ${r.stdout}${r.stderr}`);
  });
  after(() => w?.cleanup());
  const bytes = () => readFileSync(fleet, "utf8");
  const journal = (): Line[] =>
    readFileSync(join(w.root, ".ao-state", "journal.jsonl"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Line);
  const created = (s: string) =>
    w.tmux("display-message", "-p", "-t", `=${s}:`, "#{session_created} #{pane_pid}").stdout.trim();
  const commit = (dir: string, rev: string) => w.git(dir, "rev-parse", rev).trim();

  it("stop A B --dry-run --detailed-exitcode: exit 2, both edits and the plan shown, nothing changed", () => {
    const before = bytes();
    const sessions = ["alpha-a", "beta-a", "gamma-a"].map(created);
    const r = w.po(["stop", "beta", "gamma", "--dry-run", "--detailed-exitcode"]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.equal((r.stdout.match(/^-enabled = true$/gm) ?? []).length, 2, r.stdout);
    assert.equal((r.stdout.match(/^\+enabled = false$/gm) ?? []).length, 2, r.stdout);
    assert.match(r.stdout, /^beta +- stop /m);
    assert.match(r.stdout, /^gamma +- stop /m);
    assert.match(r.stdout, /^Plan: 2 to stop\.$/m);
    assert.equal(bytes(), before);
    assert.deepEqual(["alpha-a", "beta-a", "gamma-a"].map(created), sessions);
    const json = w.po(["stop", "beta", "gamma", "--dry-run", "--json"]);
    assert.equal(json.code, 0);
    assert.deepEqual(JSON.parse(json.stdout).changes, [
      { project: "beta", key: "enabled", old: true, new: false },
      { project: "gamma", key: "enabled", old: true, new: false },
    ]);
  });

  it("a dry run that would change nothing exits 0", () => {
    const r = w.po(["start", "alpha", "beta", "--dry-run", "--detailed-exitcode"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /No changes\. The (fleet is|targets \(.*\) are) up to date\./);
  });

  it("without a terminal and without --yes: refused in one line before fleet.toml is written", () => {
    const before = bytes();
    const r = w.po(["stop", "beta"]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      "po: stop: refusing to change fleet.toml without confirmation: no terminal; pass --yes, --dry-run " +
        "to preview, or --no-apply to only edit\n",
    );
    assert.equal(bytes(), before);
    assert.ok(w.sessions().includes("beta-a"));
  });

  it("at a terminal, answering no leaves fleet.toml byte for byte as it was", async () => {
    const before = bytes();
    poInPane(w, "ask-no", ["stop", "alpha", "beta"]);
    await until(() => screen(w, "ask-no").includes("Only 'yes' will be accepted"), 20_000, "the question");
    w.tmux("send-keys", "-t", "=ask-no:", "no", "Enter");
    await until(() => screen(w, "ask-no").includes("[exit 1]"), 20_000, "po to end");
    assert.match(screen(w, "ask-no"), /Cancelled; fleet\.toml was not changed\./);
    w.tmux("kill-session", "-t", "=ask-no");
    assert.equal(bytes(), before);
    assert.deepEqual(w.sessions(), ["alpha-a", "beta-a", "gamma-a"]);
  });

  it("at a terminal with a canary: one question for the edit, the next only after the canary wave", async () => {
    poInPane(w, "canary", ["stop", "alpha", "beta", "--canary", "1"]);
    const asked = () => screen(w, "canary").split("Only 'yes' will be accepted").length - 1;
    await until(() => asked() === 1, 20_000, "the question for the edit");
    w.tmux("send-keys", "-t", "=canary:", "yes", "Enter");
    await until(() => screen(w, "canary").includes("The canary wave passed"), 30_000, "the canary wave to pass");
    await until(() => asked() === 2, 20_000, "the question after the canary wave");
    w.tmux("send-keys", "-t", "=canary:", "no", "Enter");
    await until(() => screen(w, "canary").includes("[exit"), 20_000, "po to end");
    w.tmux("kill-session", "-t", "=canary");
    assert.deepEqual(w.sessions(), ["beta-a", "gamma-a"]);
    const r = w.po(["start", "alpha", "beta", "--yes"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(w.sessions(), ["alpha-a", "beta-a", "gamma-a"]);
  });

  it("stop A B --yes: one edit, one apply; the journal records the edit with old and new values", () => {
    const applies = journal().filter((l) => l.event === "apply-start").length;
    const r = w.po(["stop", "beta", "gamma", "--yes"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(w.sessions(), ["alpha-a"]);
    const lines = journal();
    assert.equal(lines.filter((l) => l.event === "apply-start").length, applies + 1, "one apply");
    const edit = lines.filter((l) => l.event === "edit").at(-1)!;
    assert.deepEqual(
      [edit.verb, edit.changes],
      [
        "stop",
        [
          { project: "beta", key: "enabled", old: true, new: false },
          { project: "gamma", key: "enabled", old: true, new: false },
        ],
      ],
    );
    assert.equal((bytes().match(/^enabled = false$/gm) ?? []).length, 2);
  });

  it("update checks that the ref resolves before writing, suggesting a near tag", () => {
    const before = bytes();
    const r = w.po(["update", "alpha", "v0.2", "--yes"]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^po: update: unknown ref 'v0\.2' of harness 'h' .*\(did you mean v0\.2\.0\?\); fleet\.toml was not changed\n$/,
    );
    assert.equal(bytes(), before);
  });

  it("the journal records pins; get --json names the previous ref; update --previous pins it anew", () => {
    const dir = join(w.root, "alpha");
    const head = commit(dir, "HEAD");
    let r = w.po(["update", "alpha", "v0.2.0", "--yes"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const pin = journal()
      .filter((l) => l.event === "end" && l.action === "pin")
      .at(-1)!;
    assert.deepEqual(
      [pin.project, pin.ref, pin.fromRef, pin.from, pin.to],
      ["alpha", "v0.2.0", "v0.1.0", commit(w.harnessUrl, "v0.1.0^{commit}"), commit(w.harnessUrl, "v0.2.0")],
    );
    assert.equal(JSON.parse(w.po(["get", "alpha", "--json"]).stdout).previousRef, "v0.1.0");
    const pinned = commit(dir, "HEAD");
    r = w.po(["update", "alpha", "--previous", "--yes"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(commit(dir, "HEAD~1"), pinned, "a new commit on top, never a reset");
    assert.equal(commit(dir, "HEAD~2"), head);
    assert.match(w.git(dir, "ls-tree", "HEAD", "engine"), new RegExp(commit(w.harnessUrl, "v0.1.0^{commit}")));
    assert.match(bytes(), /^\[projects\.alpha\]\n(?:.*\n)*?ref = "v0\.1\.0"$/m);
    assert.equal(JSON.parse(w.po(["get", "alpha", "--json"]).stdout).previousRef, "v0.2.0");
  });

  it("update refuses a downgrade naming both versions, unless --allow-downgrade", () => {
    let r = w.po(["update", "alpha", "v0.2.0", "--yes"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const before = bytes();
    r = w.po(["update", "alpha", "v0.1.0", "--yes"]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      "po: update: v0.1.0 is a downgrade from v0.2.0, which alpha pins now; pass --allow-downgrade to " +
        "move down anyway (fleet.toml was not changed)\n",
    );
    assert.equal(bytes(), before);
    r = w.po(["update", "alpha", "v0.1.0", "--allow-downgrade", "--no-apply"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(bytes(), /ref = "v0\.1\.0"/);
  });

  it("create --register --dry-run shows the diff, creates and writes nothing, exits 2 with --detailed-exitcode", () => {
    const before = bytes();
    const r = w.po(["create", "delta", "--ref", "v0.2.0", "--register", "--dry-run", "--detailed-exitcode"]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stdout, /^\+\[projects\.delta\]$/m);
    assert.match(r.stdout, /^\+ref = "v0\.2\.0"$/m);
    assert.equal(bytes(), before);
    assert.ok(!existsSync(join(w.root, "..", "delta")) && !existsSync(join(w.root, "delta")));
  });
});
