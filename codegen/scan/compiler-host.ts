import type { Project } from "ts-morph";
import { ts } from "ts-morph";

/** Where ts-morph serves the lib files of its bundled TypeScript from (in memory). */
const LIB_FOLDER = "/node_modules/typescript/lib";
const LIBRARY = /[\\/]node_modules[\\/]/;

/**
 * The compiler host of the scanner's program, on a ts-morph project: files come through the
 * project (its file system, its in-memory lib files, and the source files it already parsed for
 * the actor globs), and declaration files of libraries are parsed without their JSDoc, which the
 * scanner never reads there. ts-morph's own program host parses every file with JSDoc and parent
 * links for editing; on a 4-actor project with @types/node that was about 40% of the run.
 */
export function scannerHost(project: Project, options: ts.CompilerOptions): ts.CompilerHost {
  const files = project.getModuleResolutionHost();
  const host = ts.createCompilerHost(options, false);
  host.getDefaultLibLocation = () => LIB_FOLDER;
  host.getDefaultLibFileName = (o) => `${LIB_FOLDER}/${ts.getDefaultLibFileName(o)}`;
  host.fileExists = (path) => files.fileExists(path);
  host.readFile = (path) => files.readFile(path);
  host.directoryExists = (path) => files.directoryExists?.(path) ?? ts.sys.directoryExists(path);
  host.getDirectories = (path) => files.getDirectories?.(path) ?? ts.sys.getDirectories(path);
  host.realpath = (path) => files.realpath?.(path) ?? path;
  host.getSourceFile = (fileName, languageVersion) => {
    const known = project.getSourceFile(fileName);
    if (known) return known.compilerNode;
    const text = files.readFile(fileName);
    if (text === undefined) return undefined;
    const library = fileName.startsWith(`${LIB_FOLDER}/`) || LIBRARY.test(fileName);
    const settings: ts.CreateSourceFileOptions =
      typeof languageVersion === "object" ? languageVersion : { languageVersion };
    return ts.createSourceFile(fileName, text, {
      ...settings,
      jsDocParsingMode: library ? ts.JSDocParsingMode.ParseNone : ts.JSDocParsingMode.ParseAll,
    });
  };
  return host;
}
