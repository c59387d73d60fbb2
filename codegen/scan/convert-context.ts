import type { ts } from "ts-morph";
import type { SourceLocation, TypeNode } from "../model.js";

/** Where a conversion is, for messages: the nearest declaration in the user's source. */
export interface ConvertSite {
  readonly location: SourceLocation;
  readonly actor: string;
  /** What is being converted, such as `args` or `result`. */
  readonly what: string;
  /** The type as written there, to explain a type that does not resolve. */
  readonly typeNode?: ts.Node | undefined;
}

/** Records a problem at the site being converted and returns a placeholder type. */
export type Fail = (why: string) => TypeNode;

/** What the parts of the type converter kept in their own files call back into. */
export interface ConvertContext {
  readonly checker: ts.TypeChecker;
  /** Converts a type met inside the one being converted. */
  convert(type: ts.Type, site: ConvertSite, path: string): TypeNode;
  /** A template literal type, its parts checked. */
  template(type: ts.TemplateLiteralType, site: ConvertSite, path: string, fail: Fail): TypeNode;
  /** The site of a member: its own declaration when it is in the user's code. */
  siteOf(declaration: ts.Declaration | undefined, site: ConvertSite): ConvertSite;
  /** Records a problem at `location`. */
  report(location: SourceLocation, message: string): void;
}
