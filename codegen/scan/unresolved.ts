import { ts } from "ts-morph";
import { formatLocation, locate } from "./location.js";

/** Diagnostics that say a name or module was not found. */
const NOT_FOUND = new Set([2304, 2305, 2307, 2503, 2552, 2694, 2724, 2792]);

/**
 * Explains a type the checker could not resolve (its "error" type, which reads as `any`): the
 * text written in the source and the compiler's own message for the name or the import that
 * failed, with its place.
 */
export function unresolvedReason(
  program: ts.Program,
  root: string,
  typeNode: ts.Node | undefined,
): string {
  if (!typeNode) return "does not resolve to a type (the compiler reads it as `any`)";
  const file = typeNode.getSourceFile();
  const text = typeNode.getText(file);
  const diagnostics = program
    .getSemanticDiagnostics(file)
    .filter((d) => NOT_FOUND.has(d.code) && d.start !== undefined);
  const within = (node: ts.Node) => (d: ts.Diagnostic) =>
    d.start! >= node.getStart(file) && d.start! < node.getEnd();
  const first = text.split(/[^A-Za-z0-9_$]/)[0] ?? "";
  const importOf = file.statements.find(
    (s): s is ts.ImportDeclaration =>
      ts.isImportDeclaration(s) &&
      s.importClause !== undefined &&
      importedNames(s.importClause).includes(first),
  );
  const found =
    (importOf && diagnostics.find(within(importOf))) ?? diagnostics.find(within(typeNode));
  if (!found) return `has type \`${text}\`, which does not resolve`;
  const where = formatLocation({
    ...locate(root, typeNode),
    ...lineAndColumn(file, found.start!),
  });
  const message = ts.flattenDiagnosticMessageText(found.messageText, " ");
  return `has type \`${text}\`, which does not resolve: ${message} (${where})`;
}

function importedNames(clause: ts.ImportClause): string[] {
  const names: string[] = [];
  if (clause.name) names.push(clause.name.text);
  const bindings = clause.namedBindings;
  if (bindings && ts.isNamespaceImport(bindings)) names.push(bindings.name.text);
  if (bindings && ts.isNamedImports(bindings))
    for (const e of bindings.elements) names.push(e.name.text);
  return names;
}

function lineAndColumn(file: ts.SourceFile, pos: number): { line: number; column: number } {
  const { line, character } = file.getLineAndCharacterOfPosition(pos);
  return { line: line + 1, column: character + 1 };
}
