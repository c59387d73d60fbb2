import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

/** The repository root. */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** One compiler error, located. */
export interface CompileError {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

/**
 * Type-checks `files` (absolute paths) with the root tsconfig's options in one program, as
 * `tsc --noEmit` would, and returns every error by file and 1-based line.
 */
export function compile(
  files: readonly string[],
  tsconfig = join(ROOT, "tsconfig.json"),
): CompileError[] {
  const config = ts.readConfigFile(tsconfig, (p) => ts.sys.readFile(p));
  if (config.error)
    throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, "\n"));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, dirname(tsconfig));
  const program = ts.createProgram({
    rootNames: [...files],
    options: { ...parsed.options, noEmit: true },
  });
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, "\n");
    if (!d.file || d.start === undefined) return { file: "", line: 0, message };
    return {
      file: d.file.fileName,
      line: d.file.getLineAndCharacterOfPosition(d.start).line + 1,
      message,
    };
  });
}
