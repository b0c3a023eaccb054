// Never touch what po did not make: a symbolic link planted in .ao-state (a project's own, which its
// agents and its repository can write, or the fleet's) is refused in one line before anything runs,
// and the file or folder it points at stays byte for byte as it was.
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { agentsFolder, makeProject, makeWorld, oneLine, writeFleet, type World } from "./support/world.js";

/** Every file under `dir` with its bytes: what a refused write must leave as it was. */
function contents(dir: string): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) out[join(e.parentPath, e.name)] = readFileSync(join(e.parentPath, e.name));
  return out;
}

/** A folder outside every project with a file in it, as an operator's own files would be. */
function outside(w: World): { dir: string; file: string } {
  const dir = join(w.root, "outside");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  writeFileSync(join(dir, "precious"), "the operator's own bytes\n");
  return { dir, file: join(dir, "precious") };
}

/** A link at `path` (its folders made as po would) to `target`. */
function plant(path: string, target: string): void {
  mkdirSync(dirname(path), { recursive: true });
  symlinkSync(target, path);
}

const REFUSAL =
  /^po: could not write \S+: (it|\S+) is a symbolic link \(to \S+\), which po never follows in its state folder; remove it, then run po again/;

describe("po agents up refuses a link in the project's .ao-state", () => {
  let w: World;
  let dir: string;
  before(() => {
    w = makeWorld();
    // a heal agent: the watchdog, its log and agents.json are in play too
    dir = agentsFolder(w, '[watchdog]\ninterval_s = 1\n\n[agents.a]\ncommand = ["sleep", "3600"]\nwatch = "heal"\n');
  });
  beforeEach(() => rmSync(join(dir, ".ao-state"), { recursive: true, force: true }));
  afterEach(() => {
    rmSync(join(dir, ".ao-state"), { recursive: true, force: true });
    w.po(["agents", "down"], { cwd: dir });
  });
  after(() => w?.cleanup());

  const state = (...parts: string[]) => join(dir, ".ao-state", ...parts);
  for (const [what, place] of [
    [".ao-state itself", (o) => plant(state(), o.dir)],
    ["the logs folder", (o) => plant(state("logs"), o.dir)],
    ["the agent's log", (o) => plant(state("logs", "a.log"), o.file)],
    ["agents.json", (o) => plant(state("agents.json"), o.file)],
    ["watchdog.log", (o) => plant(state("logs", "watchdog.log"), o.file)],
    ["the agent's exit file", (o) => plant(state("exit", "a"), o.file)],
    ["the pid file", (o) => plant(state("watchdog.pid"), o.file)],
  ] as [string, (o: { dir: string; file: string }) => void][]) {
    it(`a link at ${what}: one line, exit 1, nothing started, its target unchanged`, () => {
      const o = outside(w);
      place(o);
      const before = contents(o.dir);
      const r = w.po(["agents", "up"], { cwd: dir });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(oneLine(r.stderr), REFUSAL);
      assert.match(r.stderr, /; no agent was started\n$/);
      assert.deepEqual(w.sessions(), [], "no agent session was started");
      assert.deepEqual(contents(o.dir), before, "the link's target is byte for byte as it was");
    });
  }
});

describe("po apply and po plan refuse a link in the fleet's .ao-state", () => {
  let w: World;
  before(() => {
    w = makeWorld();
    makeProject(w, "alpha", "v0.1.0");
    writeFleet(w, { alpha: { ref: "v0.1.0" } });
  });
  beforeEach(() => rmSync(join(w.root, ".ao-state"), { recursive: true, force: true }));
  after(() => w?.cleanup());

  const state = (...parts: string[]) => join(w.root, ".ao-state", ...parts);
  for (const [verb, what, place] of [
    ["apply", ".ao-state itself", (o) => plant(state(), o.dir)],
    ["apply", "the journal", (o) => plant(state("journal.jsonl"), o.file)],
    ["apply", "applied-plans", (o) => plant(state("applied-plans"), o.file)],
    ["apply", "the inventory", (o) => plant(state("inventory.json"), o.file)],
    ["apply", "the harness output folder", (o) => plant(state("harness"), o.dir)],
    ["apply", "a harness's output", (o) => plant(state("harness", "alpha.up.log"), o.file)],
    ["plan", "the harness mirrors' folder", (o) => plant(state("harnesses"), o.dir)],
    ["plan", ".ao-state itself", (o) => plant(state(), o.dir)],
  ] as ["apply" | "plan", string, (o: { dir: string; file: string }) => void][]) {
    it(`po ${verb} with a link at ${what}: one line, exit 1, nothing run, its target unchanged`, () => {
      const o = outside(w);
      place(o);
      const before = contents(o.dir);
      const r = w.po(verb === "apply" ? ["apply", "--yes"] : ["plan"]);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(oneLine(r.stderr), REFUSAL);
      assert.deepEqual(w.sessions(), [], "no agent session was started");
      assert.deepEqual(contents(o.dir), before, "the link's target is byte for byte as it was");
    });
  }
});
