import { relative, sep } from "node:path";
import { ts } from "ts-morph";
import { CodegenError } from "repid";
import type { SourceLocation } from "../model.js";

/** A POSIX path of `file` relative to `root`, as generated code and messages show it. */
export function posixRelative(root: string, file: string): string {
  const rel = relative(root, file);
  return sep === "/" ? rel : rel.split(sep).join("/");
}

/** The 1-based location of `node`'s first token. */
export function locate(root: string, node: ts.Node): SourceLocation {
  const sourceFile = node.getSourceFile();
  const { line, character } = sourceFile.getLineAndCharacterOfPosition(node.getStart(sourceFile));
  return { file: posixRelative(root, sourceFile.fileName), line: line + 1, column: character + 1 };
}

/** `file:line:col` for messages. */
export function formatLocation(location: SourceLocation): string {
  return `${location.file}:${location.line}:${location.column}`;
}

/** A `CodegenError` at `location`. */
export function errorAt(location: SourceLocation, message: string): CodegenError {
  return new CodegenError(location.file, location.line, location.column, message);
}

/** The object flags of a type (0 for non-object types). */
export function objectFlags(type: ts.Type): number {
  return type.flags & ts.TypeFlags.Object ? (type as ts.ObjectType).objectFlags : 0;
}
