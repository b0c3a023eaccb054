// Security, the terminal shows text only: control characters from fleet.toml, a project's files or
// a harness's output reach the operator written out (`\x1b`), never raw, so nothing can clear the
// screen, retitle the terminal or write to its clipboard; --json escapes them as JSON does.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { harnessToml } from "../src/sandbox/sandbox.js";
import { terminalText } from "../src/cli/output.js";
import { makeProject, makeWorld, type World } from "./support/world.js";

// eslint-disable-next-line no-control-regex
const RAW = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;
let w: World;

before(() => {
  w = makeWorld("po-sec-term-");
  makeProject(w, "p", "v0.1.0");
});

after(() => w?.cleanup());

test("terminalText writes out every control character but tab and newline, and hides url credentials", () => {
  const cases: [string, string][] = [
    ["a\x1b[2Jb", "a\\x1b[2Jb"],
    ["\x1b]52;c;ZXZpbA==\x07", "\\x1b]52;c;ZXZpbA==\\x07"],
    ["line\roverwrite", "line\\x0doverwrite"],
    ["tab\tand\nnewline", "tab\tand\nnewline"],
    ["del\x7f c1\x9b", "del\\x7f c1\\x9b"],
    ["bidi \u202e", "bidi \\u202e"],
    ["https://u:pw@h/x", "https://***@h/x"],
  ];
  for (const [raw, shown] of cases) assert.equal(terminalText(raw), shown);
  assert.equal(terminalText("\x1b[31mred\x1b[0m", { color: true }), "\x1b[31mred\x1b[0m", "paint's own colours");
  assert.equal(terminalText("\x1b[31mred\x1b[0m"), "\\x1b[31mred\\x1b[0m", "no colour: even those are text");
  assert.equal(terminalText("\x1b[2J", { color: true }), "\\x1b[2J", "colour on: other sequences stay text");
  assert.equal(terminalText("\x1b", { json: true }), "\\u001b");
});

test("a ref holding escape sequences is reported as text by validate, and as JSON by validate --json", () => {
  const harness = harnessToml("h", w.harnessUrl);
  const project = `[projects.p]\nlocation = "p"\nharness = "h"\nref = "\\u001b]0;pwned\\u0007\\u001b[2Jv1"\n`;
  writeFileSync(join(w.root, "fleet.toml"), `version = 1\n\n${harness}\n${project}`);
  const v = w.po(["validate"]);
  assert.equal(v.code, 1);
  assert.equal(
    v.stderr,
    "fleet.toml:13:1: projects.p.ref: invalid ref '\\x1b]0;pwned\\x07\\x1b[2Jv1': a ref cannot contain " +
      "spaces, control characters or any of ~ ^ : ? * [ \\\n",
  );
  const j = w.po(["validate", "--json"]);
  assert.doesNotMatch(j.stdout, RAW);
  const report = JSON.parse(j.stdout);
  assert.equal(report.files[0].problems[0].message.split("'")[1], "\x1b]0;pwned\x07\x1b[2Jv1");
});

test("a harness that prints escape sequences and fails: apply shows them as text", () => {
  const harness = harnessToml("h", w.harnessUrl).replace(
    /^up = .*$/m,
    `up = ["sh", "-c", "printf 'boom \\\\033]0;pwned\\\\007\\\\033[2J\\\\302\\\\233\\\\n'; exit 3"]`,
  );
  const project = `[projects.p]\nlocation = "p"\nharness = "h"\nref = "v0.1.0"\n`;
  writeFileSync(join(w.root, "fleet.toml"), `version = 1\n\n${harness}\n${project}`);
  const r = w.po(["apply", "--yes"]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const out = r.stdout + r.stderr;
  assert.doesNotMatch(out, RAW);
  assert.ok(out.includes("boom \\x1b]0;pwned\\x07\\x1b[2J\\x9b"), out);
  const j = w.po(["apply", "--yes", "--json"]);
  assert.doesNotMatch(j.stdout + j.stderr, RAW);
});
