import { isAbsolute, join } from "node:path";
import { Project, ts } from "ts-morph";
import { CodegenError } from "repid";
import { scannerHost } from "./compiler-host.js";
import { posixRelative } from "./location.js";

/** The compiler program of one run, and the actor files in it. */
export interface LoadedProgram {
  /** The ts-morph project the program was built from (files, globs, the user's tsconfig). */
  readonly project: Project;
  /** The program of ts-morph's bundled compiler: the scanner walks its nodes and type checker. */
  readonly program: ts.Program;
  /** Absolute paths of the files the actor globs match, sorted. */
  readonly actorFiles: readonly string[];
  /** True when the DOM's declarations were left out (see `loadProgram`'s `dom`). */
  readonly withoutDom: boolean;
}

const AMBIENT = /^\s*(?:export\s+)?declare\s+(?:global\b|module\s+["']|namespace\b)/m;

/**
 * Builds the program the scanner reads: the actor files matched by `actors` (globs relative to
 * `root`; a leading `!` excludes), the ambient declarations of the tsconfig, and what they
 * import, with the tsconfig's compiler options. It runs on ts-morph's own compiler, so the
 * project's installed `typescript` (any version, or none) does not matter.
 */
export function loadProgram(options: {
  readonly root: string;
  readonly tsconfig: string;
  readonly actors: readonly string[];
  /**
   * Whether to load the DOM's declarations when the tsconfig names no `lib` (TypeScript's
   * default lib then includes the DOM: 2.3 MB of declarations, about a fifth of a small run).
   * Actors run on Node: their types rarely name a DOM type, and when one does, the scan finds a
   * type that does not resolve and `Generator` loads the program again with the DOM.
   * @defaultValue false
   */
  readonly dom?: boolean;
}): LoadedProgram {
  const tsconfig = isAbsolute(options.tsconfig)
    ? options.tsconfig
    : join(options.root, options.tsconfig);
  const parsed = readTsconfig(options.root, tsconfig, options.tsconfig);
  const withoutDom =
    options.dom !== true && parsed.options.lib === undefined && !parsed.options.noLib;
  const compilerOptions: ts.CompilerOptions = {
    ...parsed.options,
    noEmit: true,
    // "lib.es2022.full.d.ts" is "lib.es2022.d.ts" plus the DOM's libraries.
    ...(withoutDom
      ? { lib: [ts.getDefaultLibFileName(parsed.options).replace(".full.", ".")] }
      : {}),
  };
  const project = new Project({ compilerOptions, skipFileDependencyResolution: true });
  const fs = project.getFileSystem();
  const patterns = options.actors.map((glob) =>
    glob.startsWith("!") ? `!${join(options.root, glob.slice(1))}` : join(options.root, glob),
  );
  const actorFiles = project
    .addSourceFilesAtPaths([...patterns, `!${join(options.root, "**/node_modules/**")}`])
    .map((file) => file.getFilePath() as string)
    .filter((path) => /\.[cm]?tsx?$/.test(path) && !/\.d\.[cm]?ts$/.test(path))
    .sort();
  for (const file of ambientFiles(parsed.fileNames, (path) => fs.readFileSync(path))) {
    project.addSourceFileAtPath(file);
  }
  const program = ts.createProgram({
    rootNames: project.getSourceFiles().map((file) => file.getFilePath()),
    options: compilerOptions,
    host: scannerHost(project, compilerOptions),
  });
  return { project, program, actorFiles, withoutDom };
}

/**
 * What a project without a tsconfig.json gets: the options of an ES module project on Node 20
 * (`tsc --init --module nodenext --target es2022`), so a project that installed no TypeScript
 * at all can still generate its registry.
 */
const NO_TSCONFIG: ts.CompilerOptions = {
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  target: ts.ScriptTarget.ES2022,
  strict: true,
  skipLibCheck: true,
};

/** The tsconfig's options and files; built-in defaults when the default tsconfig.json is absent. */
function readTsconfig(root: string, path: string, asGiven: string): ts.ParsedCommandLine {
  if (asGiven === "tsconfig.json" && !ts.sys.fileExists(path)) {
    return { options: NO_TSCONFIG, fileNames: [], errors: [] };
  }
  let problem: ts.Diagnostic | undefined;
  const parsed = ts.getParsedCommandLineOfConfigFile(
    path,
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
    throw new CodegenError(posixRelative(root, path), 1, 1, message);
  }
  return parsed;
}

/**
 * The files of the tsconfig that declare ambient types (`.d.ts` files, and files with
 * `declare global`, `declare module "x"` or `declare namespace`): the project's own tsc sees
 * them without an import, so the scanner must too. Other files load only when imported.
 */
function ambientFiles(fileNames: readonly string[], read: (path: string) => string): string[] {
  return fileNames.filter((file) => {
    if (/[\\/]node_modules[\\/]/.test(file)) return false;
    if (/\.d\.[cm]?ts$/.test(file)) return true;
    try {
      return AMBIENT.test(read(file));
    } catch {
      return false;
    }
  });
}
