// The rules of `git check-ref-format` for one ref, so refs are checked without starting git.

// Stryker disable next-line all: a hex id passes every later rule too; this only saves the work
const HEX_COMMIT = /^[0-9a-f]{7,64}$/;
// control characters, space, ~ ^ : ? * [ \ and DEL are never allowed in a ref
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\x00-\x20~^:?*[\\\x7f]/;

/** Why `ref` is not a valid git ref name or hex commit id; undefined when it is valid. */
export function refProblem(ref: string): string | undefined {
  // Stryker disable next-line all: see HEX_COMMIT
  if (HEX_COMMIT.test(ref)) return undefined;
  if (ref.startsWith("-")) return "a ref cannot start with '-'";
  if (FORBIDDEN.test(ref)) return "a ref cannot contain spaces, control characters or any of ~ ^ : ? * [ \\";
  if (ref.includes("..")) return "a ref cannot contain '..'";
  if (ref.includes("@{")) return "a ref cannot contain '@{'";
  if (ref === "@") return "'@' alone is not a ref";
  if (ref.endsWith(".") || ref.endsWith("/")) return "a ref cannot end with '.' or '/'";
  if (ref.startsWith("/") || ref.includes("//")) return "a ref cannot start with '/' or contain '//'";
  for (const part of ref.split("/")) {
    if (part.startsWith(".")) return "no part of a ref can start with '.'";
    if (part.endsWith(".lock")) return "no part of a ref can end with '.lock'";
  }
  return undefined;
}
