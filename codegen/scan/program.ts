import { isAbsolute, join } from "node:path";
import ts from "typescript";
import { CodegenError } from "../../src/errors.js";
import { posixRelative } from "./location.js";

/** The compiler program of one run, and the actor files in it. */
export interface LoadedProgram {
  readonly program: ts.Program;
  /** Absolute paths of the files the actor globs match, sorted. */
  readonly actorFiles: readonly string[];
}

const AMBIENT = /^\s*(?:export\s+)?declare\s+(?:global\b|module\s+["']|namespace\b)/m;
const EXTENSIONS = [".ts", ".tsx", ".mts", ".cts"];

/**
 * Builds the program the scanner reads: the actor files matched by `actors` (globs relative to
 * `root`; a leading `!` excludes), the ambient declarations of the tsconfig, and what they
 * import, with the tsconfig's compiler options. The compiler's own API, without a ts-morph
 * project around it: at 500 actor files that wrapper cost a third of the scan.
 */
export function loadProgram(options: {
  readonly root: string;
  readonly tsconfig: string;
  readonly actors: readonly string[];
}): LoadedProgram {
  const tsconfig = isAbsolute(options.tsconfig)
    ? options.tsconfig
    : join(options.root, options.tsconfig);
  let problem: ts.Diagnostic | undefined;
  const parsed = ts.getParsedCommandLineOfConfigFile(
    tsconfig,
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        problem = d;
      },
    },
  );
  if (!parsed) {
    const message = problem
      ? ts.flattenDiagnosticMessageText(problem.messageText, " ")
      : "cannot read the tsconfig";
    throw new CodegenError(posixRelative(options.root, tsconfig), 1, 1, message);
  }
  const includes = options.actors.filter((g) => !g.startsWith("!"));
  const excludes = options.actors.filter((g) => g.startsWith("!")).map((g) => g.slice(1));
  const actorFiles = ts.sys
    .readDirectory(options.root, EXTENSIONS, ["**/node_modules/**", ...excludes], includes)
    .map((f) => (isAbsolute(f) ? f : join(options.root, f)))
    .sort();
  const program = ts.createProgram({
    rootNames: [...new Set([...actorFiles, ...ambientFiles(parsed.fileNames)])],
    options: { ...parsed.options, noEmit: true },
  });
  return { program, actorFiles };
}

/**
 * The files of the tsconfig that declare ambient types (`.d.ts` files, and files with
 * `declare global`, `declare module "x"` or `declare namespace`): the project's own tsc sees
 * them without an import, so the scanner must too. Other files load only when imported.
 */
function ambientFiles(fileNames: readonly string[]): string[] {
  return fileNames.filter((file) => {
    if (/[\\/]node_modules[\\/]/.test(file)) return false;
    if (/\.d\.[cm]?ts$/.test(file)) return true;
    const text = ts.sys.readFile(file);
    return text !== undefined && AMBIENT.test(text);
  });
}
