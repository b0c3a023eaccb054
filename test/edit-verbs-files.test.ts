// fleet.toml edits are safe: 30 concurrent edits all survive with every comment, a symlinked file
// stays a symlink and keeps its mode, projects written as inline tables or dotted keys are edited in
// one line. Real po processes on real files (setKey's own table is in edit-fleet.test.ts).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { parse } from "smol-toml";
import { CLI, makeWorld, type World } from "./support/world.js";
import { harnessToml } from "../src/sandbox/sandbox.js";

function poAsync(w: World, cwd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: w.env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("close", (code) => resolve({ code: code ?? -1, out }));
  });
}

describe("fleet.toml edits are safe", () => {
  let w: World;
  before(() => (w = makeWorld()));
  after(() => w?.cleanup());
  const head = () => `version = 1\n\n${harnessToml("h", w.harnessUrl)}\n`;

  it("30 concurrent po stop/start --no-apply on different projects: every edit survives, comments intact", async () => {
    const dir = join(w.root, "many");
    mkdirSync(dir);
    const names = Array.from({ length: 30 }, (_, i) => `p${String(i).padStart(2, "0")}`);
    const table = (n: string, i: number) =>
      `# comment of ${n}\n[projects.${n}]\nlocation = "../${n}"\nharness = "h"\nref = "v0.1.0"\n` +
      `enabled = ${i % 2 === 0} # ${n}\n`;
    const text = `# the fleet of thirty\n${head()}\n${names.map(table).join("\n")}`;
    writeFileSync(join(dir, "fleet.toml"), text);
    const runs = await Promise.all(
      names.map((n, i) => poAsync(w, dir, [i % 2 === 0 ? "stop" : "start", n, "--no-apply"])),
    );
    for (const [i, r] of runs.entries()) assert.equal(r.code, 0, `${names[i]}: ${r.out}`);
    const after = readFileSync(join(dir, "fleet.toml"), "utf8");
    const projects = (parse(after) as { projects: Record<string, { enabled: boolean }> }).projects;
    assert.deepEqual(
      names.map((n) => projects[n].enabled),
      names.map((_, i) => i % 2 !== 0),
    );
    assert.deepEqual(after.match(/#.*$/gm), text.match(/#.*$/gm));
    assert.equal(after.split("\n").length, text.split("\n").length);
  });

  it("a symlinked fleet.toml stays a symlink to its target, which keeps its mode", () => {
    const real = join(w.root, "real");
    const link = join(w.root, "linked");
    mkdirSync(real);
    mkdirSync(link);
    writeFileSync(
      join(real, "fleet.toml"),
      `${head()}\n[projects.one]\nlocation = "../one"\nharness = "h"\nref = "v0.1.0"\n`,
    );
    chmodSync(join(real, "fleet.toml"), 0o640);
    symlinkSync(join(real, "fleet.toml"), join(link, "fleet.toml"));
    const r = w.po(["stop", "one", "--no-apply"], { cwd: link });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok(lstatSync(join(link, "fleet.toml")).isSymbolicLink());
    assert.equal(readlinkSync(join(link, "fleet.toml")), join(real, "fleet.toml"));
    assert.equal(statSync(join(real, "fleet.toml")).mode & 0o777, 0o640);
    assert.match(readFileSync(join(real, "fleet.toml"), "utf8"), /^ref = "v0\.1\.0"\nenabled = false\n$/m);
  });

  it("projects as inline tables and dotted keys are edited in one line", () => {
    const dir = join(w.root, "forms");
    mkdirSync(dir);
    const text =
      `${head()}\n[projects]\n` +
      `inl = { location = "../inl", harness = "h", ref = "v0.1.0" } # inline\n` +
      `dot.location = "../dot"\ndot.harness = "h"\ndot.ref = "v0.1.0" # dotted\n`;
    writeFileSync(join(dir, "fleet.toml"), text);
    for (const args of [
      ["stop", "inl", "dot", "--no-apply"],
      ["update", "inl", "dot", "v0.2.0", "--no-apply"],
    ]) {
      const r = w.po(args, { cwd: dir });
      assert.equal(r.code, 0, r.stdout + r.stderr);
    }
    const after = readFileSync(join(dir, "fleet.toml"), "utf8");
    assert.equal(
      after,
      text
        .replace('ref = "v0.1.0" } # inline', 'ref = "v0.2.0", enabled = false } # inline')
        .replace('dot.ref = "v0.1.0" # dotted\n', 'dot.ref = "v0.2.0" # dotted\ndot.enabled = false\n'),
    );
  });
});
