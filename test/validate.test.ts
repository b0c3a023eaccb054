// po validate against a corpus of malformed and well-formed fleet.toml / agents.toml files, through
// the real CLI (a child process with a clean environment), plus the registry verbs list and get and
// the CLI's own surface (--version, --help, unknown verbs and options).
//
// Every file in test/fixtures/invalid/ starts with `# expect: LINE REGEX` (more `# expect:` lines
// may follow, and `# expect-count: N` pins the number of problems): the problem must be reported at
// LINE, and `key.path: message` must match REGEX. A fixture named agents.toml (in a folder named after
// its case) is checked against the agents schema. To keep the suite fast, the corpus is validated in
// one `po validate F1 F2 …` run (human format) and one `--json` run; single-file runs cover the cases
// the issue names.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { expectedProblems } from "./support/fixtures.js";
import {
  assertClean,
  BOM,
  escapeRegExp,
  fixture,
  HOME,
  invalid,
  lines,
  po,
  type JsonReport,
  type Run,
} from "./support/validate-corpus.js";

after(() => rmSync(HOME, { recursive: true, force: true }));

describe("the corpus of malformed files", () => {
  it("has at least 34 fixtures, each opening with its expectation", () => {
    assert.ok(invalid.length >= 34, `only ${invalid.length} invalid fixtures`);
    for (const f of invalid) {
      const first = f.bytes
        .toString("utf8")
        .replace(/^\uFEFF/, "")
        .split("\n")[0];
      assert.match(first, /^# expect: \d+ /, `${f.rel}: the first line is '# expect: LINE REGEX'`);
      assert.ok(f.expect.length >= 1, f.rel);
      if (f.count !== undefined)
        assert.ok(f.count >= f.expect.length, `${f.rel}: expect-count covers every expect line`);
    }
    const agents = invalid.filter((f) => f.rel.endsWith("/agents.toml"));
    assert.ok(agents.length >= 8, "agents.toml cases are in the corpus");
    for (const f of agents)
      assert.match(f.rel, /^test\/fixtures\/invalid\/[^/]+\/agents\.toml$/, "one folder per agents.toml case");
  });

  it("keeps the byte-order marks of its BOM fixtures (git must not strip them)", () => {
    const boms = invalid.filter((f) => f.rel.includes("bom"));
    assert.ok(boms.length >= 2, "a fleet and an agents fixture with a BOM");
    for (const f of boms) assert.ok(f.bytes.subarray(0, 3).equals(BOM), `${f.rel} starts with EF BB BF`);
  });

  it("has the issue's case: line 12 reads `enabeld = true`", () => {
    const f = fixture("typo-enabeld-line12.toml");
    assert.equal(f.bytes.toString("utf8").split("\n")[11], "enabeld = true");
    assert.equal(f.expect[0].line, 12);
  });
});

describe("po validate on every malformed file (one human run, one --json run)", () => {
  let human: Run;
  let json: Run;
  let report: JsonReport;

  before(() => {
    const files = invalid.map((f) => f.rel);
    human = po(["validate", ...files]);
    json = po(["validate", "--json", ...files]);
    report = JSON.parse(json.stdout) as JsonReport;
  });

  it("exits 1 with problems on stderr, nothing called valid, no stack trace", () => {
    assert.equal(human.code, 1, human.stderr);
    assert.equal(human.stdout, "", "no file of the corpus is reported valid");
    assertClean(human, "human run");
    for (const l of lines(human.stderr))
      assert.match(l, /^test\/fixtures\/invalid\/\S+\.toml:\d+:\d+: \S.*$/, `FILE:LINE:COL: message — ${l}`);
  });

  it("--json gives the same problems as data: ok=false and every file has its problems", () => {
    assert.equal(json.code, 1);
    assert.equal(json.stderr, "", "--json says everything on stdout");
    assertClean(json, "--json run");
    assert.equal(report.ok, false);
    assert.deepEqual(
      report.files.map((r) => r.file),
      invalid.map((f) => f.rel),
    );
    const humanCount = lines(human.stderr).length;
    const jsonCount = report.files.reduce((n, r) => n + r.problems.length, 0);
    assert.equal(jsonCount, humanCount, "as many problems in --json as lines in the human format");
  });

  const table = expectedProblems();
  for (const f of invalid) {
    it(f.rel.replace("test/fixtures/invalid/", ""), () => {
      // human format: FILE:LINE:COL: key.path: message; exactly the reviewed list, once each
      const mine = lines(human.stderr).filter((l) => l.startsWith(`${f.rel}:`));
      assert.deepEqual(mine, table.get(f.rel), `${f.rel}: its exact problems (test/fixtures/invalid-problems.txt)`);
      for (const e of f.expect) {
        const at = new RegExp(`^${escapeRegExp(f.rel)}:${e.line}:([1-9]\\d*): (.*)$`);
        const hit = mine.find((l) => {
          const m = at.exec(l);
          return m !== null && e.pattern.test(m[2]);
        });
        assert.ok(
          hit,
          `${f.rel}: expected a problem at line ${e.line} matching ${e.pattern}; got:\n${mine.join("\n")}`,
        );
      }
      if (f.count !== undefined)
        assert.equal(mine.length, f.count, `${f.rel}: every problem, once each:\n${mine.join("\n")}`);

      // --json: the same problems, located
      const r = report.files.find((x) => x.file === f.rel);
      assert.ok(r, `${f.rel} is in the --json report`);
      assert.equal(r.kind, f.rel.endsWith("/agents.toml") ? "agents" : "fleet");
      assert.equal(r.problems.length, mine.length);
      for (const e of f.expect) {
        const hit = r.problems.find(
          (p) =>
            p.line === e.line && p.col !== undefined && e.pattern.test(p.path ? `${p.path}: ${p.message}` : p.message),
        );
        assert.ok(
          hit,
          `${f.rel}: --json has the problem at line ${e.line} matching ${e.pattern}: ${JSON.stringify(r.problems)}`,
        );
      }
      if (f.count !== undefined) assert.equal(r.problems.length, f.count);
    });
  }
});

describe("single-file runs of the cases the issue names", () => {
  const cases: [string, RegExp][] = [
    [
      "typo-enabeld-line12.toml",
      /^test\/fixtures\/invalid\/typo-enabeld-line12\.toml:12:1: projects\.alpha\.enabeld: unknown key 'enabeld' \(did you mean 'enabled'\?\)$/,
    ],
    [
      "harness-undeclared-no-suggestion.toml",
      /:10:\d+: projects\.alpha\.harness: harness 'claude-flow' is not declared/,
    ],
    ["ref-double-dot.toml", /:11:\d+: projects\.alpha\.ref: invalid ref 'v1\.\.2'/],
    ["name-semicolon.toml", /:9:\d+: projects\.a;rm -rf ~: invalid project name/],
    ["syntax-unterminated-string.toml", /:10:\d+: TOML syntax error: unterminated string/],
    ["location-shared.toml", /:13:\d+: projects\.beta\.location: same location as project 'alpha'/],
    [
      "agents-wake/agents.toml",
      /:9:\d+: agents\.po\.wake: 'wake' is not supported: agents are operator-driven .*no periodic wake/,
    ],
    ["empty.toml", /:1:1: missing required key 'version'$/],
    ["bom.toml", /:1:1: .*byte-order mark/],
  ];
  for (const [name, expected] of cases) {
    it(name, () => {
      const f = fixture(name);
      const r = po(["validate", f.rel]);
      assert.equal(r.code, 1, r.stderr);
      assertClean(r, name);
      assert.doesNotMatch(r.stdout, /valid/);
      const got = lines(r.stderr);
      assert.deepEqual(got, expectedProblems().get(f.rel), "exactly its problems, once each");
      assert.ok(
        got.some((l) => l.startsWith(`${f.rel}:`) && expected.test(l)),
        `expected ${expected}; got:\n${r.stderr}`,
      );
    });
  }

  it("reports every problem of a file at once, in line order", () => {
    const f = fixture("multiple-problems.toml");
    const r = po(["validate", f.rel]);
    assert.equal(r.code, 1);
    const got = lines(r.stderr).map((l) => Number(l.split(":")[1]));
    assert.deepEqual(got, [10, 17, 18, 19, 20, 21, 26]);
  });
});
