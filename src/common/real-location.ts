// Where a project really is: two spellings of one folder (a symlink, a relative path) are one project.
import { realpathSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";

/** A location with its symlinks resolved as far as it exists (the part that does not exist is kept). */
export function realLocation(location: string): string {
  const rest: string[] = [];
  for (let at = resolve(location); ; at = dirname(at)) {
    try {
      return join(realpathSync(at), ...rest);
    } catch {
      if (at === dirname(at)) return resolve(location);
      rest.unshift(basename(at));
    }
  }
}
