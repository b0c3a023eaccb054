// The CLI answers like a mature tool: README's command block is po --help's, every option a help
// lists is one the verb accepts and the runbook documents, typos get "did you mean", an argument
// a verb does not take is refused, and no error reads "po: po".
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { CLI, makeWorld, writeFleet, type World } from "./support/world.js";

const ROOT = resolve(CLI, "../../../..");

describe("po --help, README and the runbook", () => {
  let w: World;
  before(() => {
    w = makeWorld("po-help-");
    writeFleet(w, {});
  });
  after(() => w?.cleanup());

  const helpLines = () => {
    const r = w.po(["--help"]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.split("\n").slice(r.stdout.split("\n").indexOf("Commands:") + 1);
  };

  it("README's command block is po --help's list of commands, line for line", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const block = /## Commands\n\n```\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(block, "README has a ## Commands block");
    assert.deepEqual(block.split("\n"), helpLines());
  });

  it("every option of every verb's help is accepted by that verb and documented in the runbook", () => {
    const docs = readFileSync(join(ROOT, "docs", "manage-projects.md"), "utf8");
    const verbs = helpLines()
      .filter((l) => l.startsWith("  po "))
      .map((l) => l.split(" ")[3]);
    assert.ok(verbs.length >= 18, `verbs: ${verbs.join(" ")}`);
    for (const verb of verbs) {
      assert.match(docs, new RegExp(`po ${verb}\\b`), `docs/manage-projects.md mentions po ${verb}`);
      const help = w.po([verb, "--help"]).stdout;
      // The options a help lists: the left column of the lines after "Options:".
      const rows = help.split("\n").slice(help.split("\n").indexOf("Options:") + 1);
      const options = rows.flatMap((l) =>
        /^ {2}\S/.test(l)
          ? (l
              .trim()
              .split(/\s{2,}/)[0]
              .match(/--[a-z-]+/g) ?? [])
          : [],
      );
      assert.ok(options.includes("--fleet"), `po ${verb} --help lists its options`);
      for (const option of options)
        assert.ok(docs.includes(option) || ["--fleet", "--json", "--help"].includes(option), `${option} documented`);
      const r = w.po([verb, ...options.flatMap((o) => [o, "x"]), "--help"]);
      assert.equal(r.stderr, "", `po ${verb} accepts ${options.join(" ")}`);
    }
  });

  it("a mistyped option gets 'did you mean', an unexpected argument is refused, and no line reads 'po: po'", () => {
    const typo = w.po(["status", "--detailed-exitcod"]);
    assert.equal(typo.code, 1);
    assert.equal(
      typo.stderr,
      "po: status: Unknown option '--detailed-exitcod' (did you mean '--detailed-exitcode'?); see po status --help\n",
    );
    const extra = w.po(["list", "extra"]);
    assert.equal(extra.code, 1);
    assert.equal(extra.stderr, "po: list: unexpected argument 'extra'; see po list --help\n");
    const one = w.po(["get"]);
    assert.equal(one.stderr, "po: get: takes one project name; see po get --help\n");
    const missing = w.po(["validate", "missing.toml"]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, "missing.toml: file not found\n");
  });
});
