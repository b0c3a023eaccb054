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
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { expectedProblems } from "./support/fixtures.js";
import { noStackTrace } from "./support/world.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const CLI = join(ROOT, "dist", "src", "cli", "main.js");
const FIXTURES = join(ROOT, "test", "fixtures");
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface JsonProblem {
  file: string;
  line?: number;
  col?: number;
  path?: string;
  message: string;
}

interface JsonReport {
  ok: boolean;
  files: { file: string; kind: "fleet" | "agents"; problems: JsonProblem[] }[];
}

// A clean environment: no PO_FLEET, PO_DEBUG or the caller's HOME; a HOME of its own so that `~`
// locations resolve somewhere known.
const HOME = mkdtempSync(join(tmpdir(), "po-validate-home-"));
const ENV: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME, LANG: "C.UTF-8", NO_COLOR: "1" };

function po(args: string[], cwd = ROOT): Run {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, env: ENV, encoding: "utf8", timeout: 30_000 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function lines(text: string): string[] {
  return text.split("\n").filter((l) => l !== "");
}

/** No stack trace, no internal error: what an operator sees is always a located, one-line problem. */
function assertClean(r: Run, what: string): void {
  noStackTrace(r.stderr, `${what} (stderr)`);
  noStackTrace(r.stdout, `${what} (stdout)`);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// ---------------------------------------------------------------------------------------------
// The corpus

interface Expectation {
  line: number;
  pattern: RegExp;
}

interface Fixture {
  /** path relative to the repository root, as given to po */
  rel: string;
  expect: Expectation[];
  count?: number;
  bytes: Buffer;
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith(".toml") ? [join(dir, e.name)] : []))
    .sort();
}

function readFixture(file: string): Fixture {
  const bytes = readFileSync(file);
  const text = (bytes.subarray(0, 3).equals(BOM) ? bytes.subarray(3) : bytes).toString("utf8");
  const rel = relative(ROOT, file).split(sep).join("/");
  const expect: Expectation[] = [];
  let count: number | undefined;
  for (const l of text.split(/\r?\n/)) {
    const e = /^# expect: (\d+) (.+)$/.exec(l);
    const c = /^# expect-count: (\d+)$/.exec(l);
    if (e) expect.push({ line: Number(e[1]), pattern: new RegExp(e[2]) });
    else if (c) count = Number(c[1]);
    else break;
  }
  return { rel, expect, count, bytes };
}

const invalid = walk(join(FIXTURES, "invalid")).map(readFixture);
const valid = walk(join(FIXTURES, "valid")).map((f) => relative(ROOT, f).split(sep).join("/"));
// This orchestrator's own registry and agents: always part of the good cases.
const own = ["fleet.toml", "agents.toml"];

function fixture(name: string): Fixture {
  const f = invalid.find((x) => x.rel === `test/fixtures/invalid/${name}`);
  assert.ok(f, `fixture ${name} exists`);
  return f;
}

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

describe("files written at run time", () => {
  let dir: string;
  const P = (name: string, location: string, extra = "") =>
    `[projects.${name}]\nlocation = "${location}"\nharness = "ao"\nref = "v0.1.0"\n${extra}`;
  const HEAD = `version = 1\n[harnesses.ao]\nurl = "https://example.org/ao.git"\nup = ["up"]\ndown = ["down"]\n`;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "po-validate-"));
  });
  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  it("an empty file (zero bytes): version is missing, at line 1", () => {
    const file = join(dir, "empty.toml");
    writeFileSync(file, "");
    const r = po(["validate", file]);
    assert.equal(r.code, 1);
    assert.deepEqual(lines(r.stderr), [`${file}:1:1: missing required key 'version'`]);
    assert.equal(r.stdout, "");
  });

  it("a file starting with a UTF-8 byte-order mark, fleet or agents", () => {
    const fleet = join(dir, "bom.toml");
    writeFileSync(fleet, Buffer.concat([BOM, Buffer.from(HEAD)]));
    mkdirSync(join(dir, "bom"));
    const agents = join(dir, "bom", "agents.toml");
    writeFileSync(agents, Buffer.concat([BOM, Buffer.from('[agents.po]\ncommand = ["claude"]\n')]));
    for (const file of [fleet, agents]) {
      const r = po(["validate", file]);
      assert.equal(r.code, 1, file);
      assertClean(r, file);
      assert.equal(lines(r.stderr).length, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`^${escapeRegExp(file)}:1:1: .*byte-order mark`));
    }
  });

  it("Windows line endings do not move the line reported", () => {
    const file = join(dir, "crlf.toml");
    const body = readFileSync(join(ROOT, fixture("typo-enabeld-line12.toml").rel), "utf8");
    writeFileSync(file, body.replace(/\n/g, "\r\n"));
    const r = po(["validate", file]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `^${escapeRegExp(file)}:12:1: projects\\.alpha\\.enabeld: unknown key 'enabeld' \\(did you mean 'enabled'\\?\\)\\n$`,
      ),
    );
  });

  it("a very large file: 5000 good projects, then one error near the end at its exact line", () => {
    const file = join(dir, "large.toml");
    const parts = [HEAD];
    for (let i = 0; i < 5000; i++) parts.push(P(`p${i}`, `projects/p${i}`));
    const written = parts.join("").split("\n").length - 1; // lines written so far
    parts.push(P("last", "projects/last", "enabeld = true\n"));
    for (let i = 0; i < 3; i++) parts.push(P(`tail${i}`, `projects/tail${i}`));
    writeFileSync(file, parts.join(""));
    const bad = written + 5; // header, location, harness, ref, then the typo
    assert.equal(readFileSync(file, "utf8").split("\n")[bad - 1], "enabeld = true");
    const r = po(["validate", file]);
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(lines(r.stderr), [
      `${file}:${bad}:1: projects.last.enabeld: unknown key 'enabeld' (did you mean 'enabled'?)`,
    ]);

    // the same file without the typo is valid, and its 5000 projects are listed
    writeFileSync(file, parts.join("").replace("enabeld = true\n", ""));
    const ok = po(["list", "--json", "--fleet", file]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal((JSON.parse(ok.stdout) as unknown[]).length, 5004);
  });

  it("a shared location written two ways, and a project nested in another", () => {
    const file = join(dir, "locations.toml");
    writeFileSync(
      file,
      HEAD + P("alpha", "work/alpha") + P("beta", "./work/../work/alpha/") + P("gamma", `${dir}/work/alpha/gamma`),
    );
    const r = po(["validate", "--json", file]);
    assert.equal(r.code, 1);
    const problems = (JSON.parse(r.stdout) as JsonReport).files[0].problems;
    assert.deepEqual(
      problems.map((p) => [p.line, p.path]),
      [
        [11, "projects.beta.location"],
        [15, "projects.gamma.location"],
      ],
    );
    assert.match(problems[0].message, /same location as project 'alpha'/);
    assert.match(problems[1].message, /inside project 'alpha'.*cannot nest/);
  });
});

describe("the good cases", () => {
  it("this orchestrator's own fleet.toml and agents.toml exist", () => {
    for (const f of own) assert.ok(existsSync(join(ROOT, f)), `${f} is in the repository`);
  });

  it("every valid fixture and the repository's own files validate in one run: exit 0", () => {
    const files = [...valid, ...own];
    assert.ok(valid.length >= 6, "several good fixtures");
    const r = po(["validate", ...files]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    assertClean(r, "valid run");
    assert.deepEqual(
      lines(r.stdout),
      files.map((f) => `${f}: valid ${f.endsWith("agents.toml") ? "agents" : "fleet"} file`),
    );
    const j = po(["validate", "--json", ...files]);
    assert.equal(j.code, 0, j.stdout);
    const report = JSON.parse(j.stdout) as JsonReport;
    assert.equal(report.ok, true);
    assert.deepEqual(
      report.files.map((x) => [x.file, x.problems.length]),
      files.map((f) => [f, 0]),
    );
  });

  it("po validate with no file checks ./fleet.toml; po validate agents.toml the agents", () => {
    const r = po(["validate"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "fleet.toml: valid fleet file\n");
    const a = po(["validate", "agents.toml"]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(a.stdout, "agents.toml: valid agents file\n");
  });

  it("one bad file among good ones: exit 1, the good one still said valid", () => {
    const bad = fixture("ref-leading-dash.toml").rel;
    const r = po(["validate", "test/fixtures/valid/minimal.toml", bad]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "test/fixtures/valid/minimal.toml: valid fleet file\n");
    assert.match(r.stderr, /ref-leading-dash\.toml:11:\d+: projects\.alpha\.ref: invalid ref '-x'/);
  });
});

describe("po list and po get", () => {
  const full = "test/fixtures/valid/full.toml";

  it("po list --json lists the projects, normalized", () => {
    const r = po(["list", "--json", "--fleet", full]);
    assert.equal(r.code, 0, r.stderr);
    const projects = JSON.parse(r.stdout) as {
      name: string;
      enabled: boolean;
      harness: string;
      ref: string;
      location: string;
      url?: string;
    }[];
    assert.deepEqual(
      projects.map((p) => p.name),
      ["0-numbered", "alpha", "beta", "delta", "gamma"],
    );
    const by = Object.fromEntries(projects.map((p) => [p.name, p]));
    assert.equal(by.alpha.location, join(ROOT, "test", "fixtures", "alpha"));
    assert.equal(by.alpha.url, "https://example.org/me/alpha.git");
    assert.equal(by.beta.location, join(HOME, "fleet", "beta"));
    assert.equal(by.beta.enabled, false);
    assert.equal(by.gamma.harness, "local.h_2");
    assert.equal(by.delta.enabled, true, "enabled defaults to true");
  });

  it("po list --json on a fleet without projects: []", () => {
    const r = po(["list", "--json", "--fleet", "test/fixtures/valid/minimal.toml"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), []);
  });

  it("po list on an invalid fleet: exit 1, the located problem, no stack trace", () => {
    const f = fixture("typo-enabeld-line12.toml").rel;
    const r = po(["list", "--fleet", f]);
    assert.equal(r.code, 1);
    assertClean(r, "list");
    assert.match(r.stderr, /typo-enabeld-line12\.toml:12:1: projects\.alpha\.enabeld: unknown key 'enabeld'/);
  });

  it("po get NAME shows one project", () => {
    const r = po(["get", "alpha", "--json", "--fleet", full]);
    assert.equal(r.code, 0, r.stderr);
    const p = JSON.parse(r.stdout) as { name: string; ref: string; harness: { name: string; path: string } };
    assert.equal(p.name, "alpha");
    assert.equal(p.ref, "v0.1.0");
    assert.equal(p.harness.name, "agent-orchestrator");
  });

  it("po get with a typo suggests the closest name and exits 1", () => {
    const r = po(["get", "alpah", "--fleet", full]);
    assert.equal(r.code, 1);
    assertClean(r, "get");
    assert.equal(lines(r.stderr).length, 1, r.stderr);
    assert.match(r.stderr, /'alpah'.*did you mean 'alpha'/);
    assert.equal(r.stdout, "");
  });
});

describe("the command line", () => {
  it("po validate of a missing file: exit 1, one clear line", () => {
    const r = po(["validate", "no/such/fleet.toml"]);
    assert.equal(r.code, 1);
    assertClean(r, "missing file");
    assert.equal(lines(r.stderr).length, 1, r.stderr);
    assert.match(r.stderr, /^no\/such\/fleet\.toml: .*not found/);
    assert.equal(r.stdout, "");
  });

  it("po --version prints package.json's version", () => {
    const r = po(["--version"]);
    assert.equal(r.code, 0);
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    assert.equal(r.stdout, `${pkg.version}\n`);
  });

  it("po --help and po validate --help exit 0", () => {
    const h = po(["--help"]);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /^Usage: po VERB/m);
    assert.match(h.stdout, /validate/);
    const v = po(["validate", "--help"]);
    assert.equal(v.code, 0);
    assert.match(v.stdout, /^Usage: po validate/);
    assert.equal(v.stderr, "");
  });

  it("an unknown verb exits 1 with one line", () => {
    const r = po(["validat"]);
    assert.equal(r.code, 1);
    assertClean(r, "unknown verb");
    assert.equal(lines(r.stderr).length, 1, r.stderr);
    assert.match(r.stderr, /unknown verb 'validat'.*did you mean 'validate'/);
  });

  it("an unknown option exits 1 with one line", () => {
    for (const args of [
      ["validate", "--strict"],
      ["list", "--bogus"],
    ]) {
      const r = po(args);
      assert.equal(r.code, 1, args.join(" "));
      assertClean(r, args.join(" "));
      assert.equal(lines(r.stderr).length, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`${args[1]}`));
    }
  });
});
