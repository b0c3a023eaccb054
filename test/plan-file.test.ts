// Unit tests of the saved plan's reader: a plan of every kind of action reads back as written, and
// what is not a po-plan/1 (an unknown action kind, an edited id) is refused in one line.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Action, ActionKind } from "../reconcile/model.js";
import { newPlan, readPlanFile } from "../src/state/plan-file.js";

const TMP = mkdtempSync(join(tmpdir(), "po-plan-file-"));
after(() => rmSync(TMP, { recursive: true, force: true }));

const KINDS: ActionKind[] = ["clone", "init", "stop", "pin", "start"];
const actions: Action[] = KINDS.map((kind) => ({ project: "p", kind, reason: kind }));
const plan = newPlan({ path: "/fleet/fleet.toml", sha256: "f".repeat(64) }, [], { actions, errors: [] }, {});

/** `content` written as a plan file; returns its path. */
function file(name: string, content: unknown): string {
  const path = join(TMP, name);
  writeFileSync(path, JSON.stringify(content));
  return path;
}

describe("readPlanFile", () => {
  it("reads a plan of every kind of action back as it was written", () => {
    assert.deepEqual(readPlanFile(file("all.json", plan)), plan);
  });

  it("refuses an action of a kind po does not know, and an edited id", () => {
    const cases: [string, unknown, string][] = [
      [
        "kind.json",
        { ...plan, actions: [{ project: "p", kind: "wipe", reason: "x" }] },
        "its actions are not a list of actions",
      ],
      ["id.json", { ...plan, id: "0".repeat(32) }, "its id does not match its content (was the file edited?)"],
    ];
    for (const [name, content, why] of cases) {
      const path = file(name, content);
      const message = `${path}: not a saved plan of format po-plan/1: ${why}; make one with po plan --out FILE`;
      assert.throws(() => readPlanFile(path), { message });
    }
  });
});
