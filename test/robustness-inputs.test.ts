// Odd paths from the operator, each one clear line: plan --out into a link or a folder, and a file
// where a folder is wanted (agents --dir, import); nothing is written where it was not meant to be.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeProject, makeWorld, oneLine, writeFleet, type World } from "./support/world.js";

describe("odd paths given to po", () => {
  let w: World;
  before(() => {
    w = makeWorld();
    makeProject(w, "alpha", "v0.1.0");
    writeFleet(w, { alpha: { ref: "v0.1.0" } });
    writeFileSync(join(w.root, "afile"), "the operator's own bytes\n");
  });
  after(() => w?.cleanup());

  it("plan --out into a link (to a file, or dangling) is refused, and nothing is written through it", () => {
    symlinkSync(join(w.root, "afile"), join(w.root, "to-file.json"));
    symlinkSync(join(w.root, "nowhere.json"), join(w.root, "dangling.json"));
    for (const out of ["to-file.json", "dangling.json"]) {
      const r = w.po(["plan", "--out", out]);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.equal(
        oneLine(r.stderr),
        `po: plan: cannot save the plan to ${out}: it is a symbolic link; name the file itself`,
      );
    }
    assert.equal(readFileSync(join(w.root, "afile"), "utf8"), "the operator's own bytes\n");
    assert.equal(existsSync(join(w.root, "nowhere.json")), false, "the dangling link's target was not created");
  });

  it("plan --out into a folder is one clear line", () => {
    mkdirSync(join(w.root, "plans"));
    const r = w.po(["plan", "--out", "plans"]);
    assert.equal(r.code, 1);
    assert.equal(oneLine(r.stderr), "po: plan: cannot save the plan to plans: it is a folder; name a file");
  });

  it("a file where a folder is wanted says so, in one line", () => {
    const file = join(w.root, "afile");
    const agents = w.po(["agents", "up", "--dir", file]);
    assert.equal(agents.code, 1);
    assert.equal(oneLine(agents.stderr), `po: agents: ${file} is a file, not a directory; pass --dir DIR`);
    const imported = w.po(["import", file, "--yes"]);
    assert.equal(imported.code, 1);
    assert.match(imported.stderr, new RegExp(`^po: import: ${file}: a file, not a folder$`, "m"));
    const scanned = w.po(["import", "--scan", file, "--yes"]);
    assert.equal(scanned.code, 1);
    assert.equal(oneLine(scanned.stderr), `po: import: --scan ${file}: a file, not a folder`);
    assert.deepEqual(w.sessions(), []);
  });
});
