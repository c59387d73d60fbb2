import { watch, type FSWatcher } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";

/** The folder a glob starts from: its path up to the first segment with a wildcard. */
export function globBase(root: string, glob: string): string {
  const pattern = glob.startsWith("!") ? glob.slice(1) : glob;
  const absolute = isAbsolute(pattern) ? pattern : join(root, pattern);
  const segments = absolute.split(/[\\/]/);
  const fixed: string[] = [];
  for (const segment of segments) {
    if (/[*?[\]{}!]/.test(segment)) break;
    fixed.push(segment);
  }
  const base = fixed.join("/") || "/";
  return /\.[cm]?tsx?$/.test(base) ? resolve(base, "..") : base;
}

/**
 * Calls `onChange` with the changed `.ts` files under the globs' folders, batched over
 * `debounceMs`, until the returned function is called. `ignore` (the output) never triggers.
 */
export function watchActorFiles(
  root: string,
  globs: readonly string[],
  ignore: string,
  onChange: (paths: string[]) => void,
  debounceMs = 100,
): () => void {
  const folders = [
    ...new Set(globs.filter((g) => !g.startsWith("!")).map((g) => globBase(root, g))),
  ].sort();
  const pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let watchers: FSWatcher[] = [];
  // Editors save by replacing the file, which can leave a recursive watcher on the old inode:
  // the watchers are made anew after each batch.
  const start = () => {
    watchers = folders.map((folder) =>
      watch(folder, { recursive: true }, (_event, name) => {
        if (!name || !/\.[cm]?tsx?$/.test(name)) return;
        const path = join(folder, name.toString());
        if (resolve(path) === resolve(ignore)) return;
        pending.add(path);
        clearTimeout(timer);
        timer = setTimeout(() => {
          const paths = [...pending].sort();
          pending.clear();
          stop();
          start();
          onChange(paths);
        }, debounceMs);
      }),
    );
  };
  const stop = () => {
    for (const w of watchers) w.close();
    watchers = [];
  };
  start();
  return () => {
    clearTimeout(timer);
    stop();
  };
}
