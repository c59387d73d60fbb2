import { watch, type FSWatcher } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";

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

/** What to watch. */
export interface WatchTargets {
  readonly root: string;
  /** Actor globs: their folders are watched recursively, for new and changed actor files. */
  readonly globs: readonly string[];
  /** The generated module, which never triggers a run. */
  readonly ignore: string;
  /** The files the last run read (actor files and everything they import), asked anew on `rewatch`. */
  readonly inputs: () => readonly string[];
}

/** A running watch. */
export interface Watch {
  /** Watches the current `inputs()`: call after each run, whose imports may have changed. */
  rewatch(): void;
  close(): void;
}

/**
 * Calls `onChange` with the changed `.ts` files, batched over `debounceMs`: new or changed files
 * under the actor globs' folders, and changes to any file the last run read, wherever it is
 * (a types file the actors import, a `.d.ts`).
 */
export function watchFiles(
  targets: WatchTargets,
  onChange: (paths: string[]) => void,
  debounceMs = 100,
): Watch {
  const globFolders = [
    ...new Set(
      targets.globs.filter((g) => !g.startsWith("!")).map((g) => globBase(targets.root, g)),
    ),
  ].sort();
  const pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let watchers: FSWatcher[] = [];
  let inputs = new Set<string>();
  const changed = (path: string) => {
    if (resolve(path) === resolve(targets.ignore)) return;
    pending.add(path);
    clearTimeout(timer);
    timer = setTimeout(() => {
      const paths = [...pending].sort();
      pending.clear();
      // Editors save by replacing the file, which can leave a watcher on the old inode.
      start();
      onChange(paths);
    }, debounceMs);
  };
  const start = () => {
    stop();
    inputs = new Set(targets.inputs().map((p) => resolve(p)));
    const inputFolders = [...new Set([...inputs].map((p) => dirname(p)))].sort();
    for (const folder of globFolders) {
      watchers.push(
        watch(folder, { recursive: true }, (_event, name) => {
          if (name && /\.[cm]?tsx?$/.test(name)) changed(join(folder, name.toString()));
        }),
      );
    }
    for (const folder of inputFolders) {
      watchers.push(
        watch(folder, (_event, name) => {
          const path = name ? resolve(folder, name.toString()) : undefined;
          if (path && inputs.has(path)) changed(path);
        }),
      );
    }
  };
  const stop = () => {
    for (const w of watchers) w.close();
    watchers = [];
  };
  start();
  return {
    rewatch: start,
    close: () => {
      clearTimeout(timer);
      stop();
    },
  };
}
