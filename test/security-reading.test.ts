// Security, reading is never running: po validate, plan, list, get and status on a fleet.toml and
// projects someone else wrote run nothing they name: no harness up/down, no agent, no git hook,
// fsmonitor, filter or transport of their choosing. Each program named writes a marker file; the
// markers must not exist afterwards. Real git, real tmux (isolated), real po processes.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { harnessToml } from "../src/sandbox/sandbox.js";
import { makeProject, makeWorld, type World } from "./support/world.js";

let w: World;
let marks: string;
const mark = (name: string) => join(marks, name);
const touch = (name: string) => `touch ${mark(name)}; false`;

before(() => {
  w = makeWorld("po-sec-read-");
  marks = join(w.root, "marks");
  mkdirSync(marks);
  const p = makeProject(w, "p", "v0.1.0");
  const engine = join(p, "engine");
  // What an agent inside the project could write: its repositories' own config and attributes.
  for (const repo of [p, engine]) {
    w.git(repo, "config", "core.fsmonitor", touch("fsmonitor"));
    w.git(repo, "config", "filter.evil.clean", touch("filter-clean"));
    w.git(repo, "config", "filter.evil.process", touch("filter-process"));
    w.git(repo, "config", "core.hooksPath", join(w.root, "hooks"));
    writeFileSync(join(repo, ".gitattributes"), "* filter=evil\n");
  }
  mkdirSync(join(w.root, "hooks"));
  for (const hook of ["post-index-change", "pre-auto-gc", "post-checkout", "reference-transaction"]) {
    writeFileSync(join(w.root, "hooks", hook), `#!/bin/sh\ntouch ${mark(`hook-${hook}`)}\n`);
    chmodSync(join(w.root, "hooks", hook), 0o755);
  }
  // a tracked file whose stat no longer matches the index: git status must look at its content
  writeFileSync(join(engine, "VERSION"), "0.1.0\n");
  writeFileSync(join(p, "agents.toml"), `[agents.a]\ncommand = ["sh", "-c", ${JSON.stringify(touch("agent"))}]\n`);
});

after(() => w?.cleanup());

function fleetWith(url: string, ref = "main"): void {
  const harness = harnessToml("h", url)
    .replace(/^up = .*$/m, `up = ["sh", "-c", ${JSON.stringify(touch("up"))}]`)
    .replace(/^down = .*$/m, `down = ["sh", "-c", ${JSON.stringify(touch("down"))}]`);
  const project = `[projects.p]\nlocation = "p"\nharness = "h"\nref = "${ref}"\n`;
  writeFileSync(join(w.root, "fleet.toml"), `version = 1\n\n${harness}\n${project}`);
}

const markers = () => readdirSync(marks).sort();

for (const url of [
  "--upload-pack=touch MARK",
  "-utouch MARK",
  "ext::sh -c touch% MARK",
  "ext::sh -c touch% MARK% >&2",
  "fd::0",
  "ssh://-oProxyCommand=touch% MARK/x",
]) {
  test(`a harness url ${JSON.stringify(url)}: validate refuses it in one line, plan exits 1, nothing runs`, () => {
    fleetWith(url.replace("MARK", mark("url")));
    const v = w.po(["validate"]);
    assert.equal(v.code, 1);
    const lines = v.stderr.trim().split("\n");
    assert.equal(lines.length, 1, v.stderr);
    assert.match(lines[0], /^fleet\.toml:4:1: harnesses\.h\.url: /);
    const plan = w.po(["plan"]);
    assert.equal(plan.code, 1, plan.stdout + plan.stderr);
    assert.equal(plan.stderr.trim().split("\n").length, 1, plan.stderr);
    assert.deepEqual(markers(), []);
  });
}

test("validate, plan, list, get and status run no harness, agent, hook, fsmonitor or filter", () => {
  fleetWith(w.harnessUrl, "v0.1.0");
  const runs = [
    ["validate"],
    ["validate", "--deep"],
    ["list"],
    ["get", "p"],
    ["plan"],
    ["plan", "--json"],
    ["status"],
    ["status", "--json"],
    ["agents", "status", "--dir", join(w.root, "p")],
  ];
  for (const args of runs) {
    const r = w.po(args);
    assert.ok(r.code === 0 || r.code === 1 || r.code === 2, `po ${args.join(" ")}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /internal error/);
  }
  assert.deepEqual(markers(), []);
  assert.deepEqual(w.sessions(), [], "no agent was started");
  // the world's own git (not po) does run what the project configured: the markers can appear
  try {
    w.git(join(w.root, "p", "engine"), "status", "--porcelain");
  } catch {
    // the fixture's filter makes git itself fail; what counts is that it ran
  }
  assert.ok(existsSync(mark("fsmonitor")), "the fixture's fsmonitor is live for git itself");
});
