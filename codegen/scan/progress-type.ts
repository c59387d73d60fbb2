import { ts } from "ts-morph";
import type { SourceLocation } from "../model.js";
import { locate } from "./location.js";

/** The progress type an actor's context parameter names, and where it is written. */
export interface ProgressSite {
  readonly type: ts.Type;
  readonly location: SourceLocation;
  /** The type as written (the type argument of `JobContext<P>`), for messages. */
  readonly typeNode: ts.TypeNode;
}

/**
 * The type of the values an actor reports with `ctx.progress(value)`, read from its context
 * parameter's declared type (`ctx: JobContext<{ done: number }>`, `ActorContext<Progress>`, or
 * any type whose `progress` method takes one value). `undefined` when the actor has no context
 * parameter, leaves it untyped, or names no progress type (`JobContext`, `JobContext<unknown>`).
 */
export function progressSite(
  context: ts.Symbol | undefined,
  checker: ts.TypeChecker,
  root: string,
): ProgressSite | undefined {
  const decl = context?.valueDeclaration;
  if (!decl || !ts.isParameter(decl) || !decl.type) return undefined;
  const contextType = checker.getTypeFromTypeNode(decl.type);
  const method = contextType.getProperty("progress");
  if (!method) return undefined;
  const signature = checker.getTypeOfSymbolAtLocation(method, decl).getCallSignatures()[0];
  const value = signature?.getParameters()[0];
  if (!value) return undefined;
  const type = checker.getTypeOfSymbol(value);
  if (type.flags & ts.TypeFlags.Unknown) return undefined;
  // `JobContext<P>`: point at `P`; another spelling of the type: at the whole annotation.
  const typeNode =
    ts.isTypeReferenceNode(decl.type) && decl.type.typeArguments?.length === 1
      ? decl.type.typeArguments[0]!
      : decl.type;
  return { type, location: locate(root, typeNode), typeNode };
}
