// Security, names are names: projects, harnesses and agents called `constructor`, `valueof` or
// `hasownproperty` behave like any other name through validate, plan, apply, status and po agents;
// `__proto__` is refused in one line like any other invalid name. Real git, real tmux (isolated).
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { harnessToml } from "../src/sandbox/sandbox.js";
import { makeProject, makeWorld, panePid, until, type World } from "./support/world.js";

let w: World;

before(() => {
  w = makeWorld("po-sec-names-");
  for (const name of ["constructor", "valueof"]) makeProject(w, name, "v0.1.0", ["constructor", "hasownproperty"]);
  // the agent `constructor` of project constructor is healed by the watchdog, checking every second
  writeFileSync(
    join(w.root, "constructor", "agents.toml"),
    '[watchdog]\ninterval_s = 1\n\n[agents.constructor]\ncommand = ["sleep", "3600"]\nwatch = "heal"\n\n' +
      '[agents.hasownproperty]\ncommand = ["sleep", "3600"]\n',
  );
  const harness = harnessToml("tostring", w.harnessUrl);
  const projects = ["constructor", "valueof"]
    .map((n) => `[projects.${n}]\nlocation = "${n}"\nharness = "tostring"\nref = "v0.1.0"\n`)
    .join("\n");
  writeFileSync(join(w.root, "fleet.toml"), `version = 1\n\n${harness}\n${projects}`);
});

after(() => {
  for (const n of ["constructor", "valueof"]) w?.po(["agents", "down", "--dir", join(w.root, n)]);
  w?.cleanup();
});

test("constructor, valueof, tostring and hasownproperty are ordinary names", () => {
  assert.equal(w.po(["validate"]).stdout, "fleet.toml: valid fleet file\n");
  assert.match(w.po(["get", "constructor"]).stdout, /^harness {3}tostring \(/m);
  const plan = w.po(["plan"]);
  assert.equal(plan.code, 0, plan.stderr);
  assert.equal(
    plan.stdout,
    "constructor  + start (stopped: 0/2 sessions live)\nvalueof      + start (stopped: 0/2 sessions live)\n\n" +
      "Plan: 2 to start.\n",
  );
  const apply = w.po(["apply", "--yes"]);
  assert.equal(apply.code, 0, apply.stdout + apply.stderr);
  assert.deepEqual(w.sessions(), [
    "constructor-constructor",
    "constructor-hasownproperty",
    "valueof-constructor",
    "valueof-hasownproperty",
  ]);
  const status = agentLines(join(w.root, "constructor"));
  assert.deepEqual(
    status.map((a) => [a.agent, a.live, a.restarts]),
    [
      ["constructor", true, 0],
      ["hasownproperty", true, 0],
    ],
  );
  assert.equal(w.po(["plan"]).stdout, "No changes. The fleet is up to date.\n");
});

test("the watchdog heals an agent named constructor like any other, counting its restart", async () => {
  const dir = join(w.root, "constructor");
  const before = panePid(w, "constructor-constructor");
  w.tmux("kill-session", "-t", "=constructor-constructor");
  await until(() => !["", before].includes(panePid(w, "constructor-constructor")), 20_000, "the watchdog's restart");
  const restarts = () => agentLines(dir).map((a) => [a.agent, a.restarts]);
  await until(() => JSON.stringify(restarts()) === '[["constructor",1],["hasownproperty",0]]', 10_000, "restarts 1");
});

/** po agents status --json: one JSON line per agent, in the harness status format. */
function agentLines(dir: string): { agent: string; live: boolean; restarts: number }[] {
  const out = w.po(["agents", "status", "--json", "--dir", dir]).stdout;
  return out
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

test("__proto__ as a project, harness or agent name is refused in one line", () => {
  const file = join(w.root, "proto.toml");
  writeFileSync(
    file,
    `version = 1\n[projects.__proto__]\nlocation = "x"\nharness = "h"\nref = "v1"\n\n${harnessToml("h", "/h")}`,
  );
  const r = w.po(["validate", file]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^\S+proto\.toml:2:1: projects\.__proto__: invalid project name '__proto__': [^\n]*\n$/);
  writeFileSync(join(w.root, "agents.toml"), '[agents.__proto__]\ncommand = ["x"]\n');
  const a = w.po(["validate", join(w.root, "agents.toml")]);
  assert.equal(a.code, 1);
  assert.match(a.stderr, /^\S+agents\.toml:1:1: agents\.__proto__: invalid agent name '__proto__': [^\n]*\n$/);
});
