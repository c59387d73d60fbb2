import { ts } from "ts-morph";
import type { DocTag } from "../model.js";

/** Tags that describe a function's signature: they say nothing of a message or a client call. */
const SIGNATURE_TAGS = new Set([
  "param",
  "arg",
  "argument",
  "returns",
  "return",
  "template",
  "typeParam",
  "typeparam",
  "this",
  "throws",
  "exception",
  "yields",
  "overload",
]);

/** The comment of a symbol's TSDoc, without its block tags. */
export function docComment(symbol: ts.Symbol, checker: ts.TypeChecker): string {
  return ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim();
}

/** The block tags of a symbol's TSDoc (`@deprecated`, `@see`, `@example`...), in source order. */
export function docTags(symbol: ts.Symbol, checker: ts.TypeChecker): DocTag[] {
  return symbol
    .getJsDocTags(checker)
    .filter((tag) => !SIGNATURE_TAGS.has(tag.name))
    .map((tag) => ({ name: tag.name, text: ts.displayPartsToString(tag.text).trim() }));
}

/** A tag as TSDoc writes it. */
export function tagText(tag: DocTag): string {
  return tag.text === "" ? `@${tag.name}` : `@${tag.name} ${tag.text}`;
}

/**
 * A symbol's whole TSDoc as text, tags last: what the generated module writes above the copy of
 * a type or a property, so that editors show it (and strike a `@deprecated` one through).
 */
export function docText(symbol: ts.Symbol, checker: ts.TypeChecker): string {
  const comment = docComment(symbol, checker);
  const tags = docTags(symbol, checker).map(tagText);
  if (tags.length === 0) return comment;
  return comment === "" ? tags.join("\n") : `${comment}\n\n${tags.join("\n")}`;
}
