import { ts } from "ts-morph";
import type { CodegenError } from "repid";
import type { ActorModel, DocTag, SourceLocation } from "../model.js";
import { readLimits } from "./actor-limits.js";
import { docComment, docTags } from "./doc-text.js";
import { errorAt, locate } from "./location.js";
import { literalOf, literalValue, skipParens, type OptionValue } from "./option-literals.js";
import type { RepidClassDetector } from "./receiver.js";

/** An `x.actor(...)` call on a repid Router or Worker, with its options read statically. */
export interface ActorCall extends Pick<
  ActorModel,
  | "name"
  | "queue"
  | "timeout"
  | "hasRetryPolicy"
  | "runInProcess"
  | "storeResult"
  | "mode"
  | "concurrency"
  | "rateLimit"
> {
  readonly signature: ts.Signature;
  /** The actor function's own node (or the call's argument when it cannot be found). */
  readonly fnNode: ts.Node;
  readonly doc: string;
  readonly tags: readonly DocTag[];
  /** Where the call is. */
  readonly location: SourceLocation;
  /** The `upcast` option: each upcaster's fingerprint and parameter type (when declared). */
  readonly upcasts: readonly UpcastCall[];
}

/** One entry of an actor's `upcast` option. */
export interface UpcastCall {
  readonly fingerprint: string;
  /** The declared type of the upcaster's parameter; absent when it has none. */
  readonly paramType?: ts.Type;
  readonly paramNode?: ts.Node;
  readonly location: SourceLocation;
}

/** A schema fingerprint as the generated registry writes it. */
const FINGERPRINT = /^[0-9a-f]{12}$/;

/**
 * Finds the actor registrations in one file. Errors are pushed to `errors` so one bad call does
 * not hide the others.
 */
export function findActorCalls(
  sourceFile: ts.SourceFile,
  checker: ts.TypeChecker,
  detector: RepidClassDetector,
  root: string,
  errors: CodegenError[],
): ActorCall[] {
  const found: ActorCall[] = [];
  const visit = (node: ts.Node): void => {
    if (
      ts.isCallExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      node.expression.name.text === "actor" &&
      detector.isRouter(checker.getTypeAtLocation(node.expression.expression))
    ) {
      try {
        found.push(readCall(node, checker, root));
      } catch (error) {
        if (isCodegenError(error)) errors.push(error);
        else throw error;
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return found;
}

function isCodegenError(error: unknown): error is CodegenError {
  return error instanceof Error && (error as { code?: unknown }).code === "CODEGEN";
}

function readCall(call: ts.CallExpression, checker: ts.TypeChecker, root: string): ActorCall {
  const location = locate(root, call);
  const [first, second] = call.arguments;
  if (!first) throw errorAt(location, "actor() needs a function");
  const fnArg = second ?? first;
  const optionsNode = second ? first : undefined;
  const options = optionsNode
    ? readOptions(optionsNode, checker, root)
    : new Map<string, OptionValue>();
  const upcasts = options.has("upcast") ? readUpcasts(options.get("upcast")!, checker, root) : [];

  const declared = ownSignature(skipParens(fnArg), checker);
  const signatures = declared ? [declared] : checker.getTypeAtLocation(fnArg).getCallSignatures();
  if (signatures.length !== 1) {
    throw errorAt(
      locate(root, fnArg),
      signatures.length === 0
        ? "the actor is not a function"
        : "an actor cannot be an overloaded function",
    );
  }
  const signature = signatures[0]!;
  if (signature.typeParameters?.length)
    throw errorAt(locate(root, fnArg), "an actor cannot be a generic function");
  const fnNode = functionDeclarationOf(fnArg, checker) ?? fnArg;
  const explicit = options.get("name");
  const name = explicit ? literalOf(explicit, "string") : functionName(fnArg, fnNode);
  if (name === undefined || name === "") {
    throw errorAt(
      locate(root, fnArg),
      'cannot tell the actor\'s name: give the function a name or pass { name: "..." }',
    );
  }
  const queue = options.has("queue") ? literalOf(options.get("queue")!, "string") : "default";
  const timeout = options.has("timeout")
    ? literalOf(options.get("timeout")!, "string", "number")
    : undefined;
  const runInProcess = options.has("runInProcess")
    ? literalOf(options.get("runInProcess")!, "boolean")
    : false;
  const storeResult = options.has("storeResult")
    ? literalOf(options.get("storeResult")!, "boolean", "string", "number")
    : undefined;
  const limits = readLimits(options, { checker, root, args: argsType(signature, checker) });
  const { doc, tags } = docOf(fnNode, checker) ?? docOf(call, checker) ?? { doc: "", tags: [] };
  return {
    name,
    queue,
    ...(timeout !== undefined ? { timeout } : {}),
    hasRetryPolicy: options.has("retryPolicy"),
    runInProcess,
    ...(storeResult !== undefined ? { storeResult } : {}),
    mode: isAsync(fnNode) ? "async" : "sync",
    signature,
    fnNode,
    doc,
    tags,
    location,
    upcasts,
    ...limits,
  };
}

/** The type of the actor's arguments (its first parameter); `undefined` when it takes none. */
function argsType(signature: ts.Signature, checker: ts.TypeChecker): ts.Type | undefined {
  const param = signature.getParameters()[0];
  if (!param) return undefined;
  const decl = param.valueDeclaration ?? param.declarations?.[0];
  return decl ? checker.getTypeOfSymbolAtLocation(param, decl) : checker.getTypeOfSymbol(param);
}

/**
 * The `upcast` option: an object literal keyed by older schema fingerprints, each value a
 * function from that version's arguments to the current ones.
 */
function readUpcasts(option: OptionValue, checker: ts.TypeChecker, root: string): UpcastCall[] {
  const inner = skipParens(option.node);
  if (!ts.isObjectLiteralExpression(inner)) {
    throw errorAt(
      option.location,
      'actor option "upcast" must be an object literal keyed by schema fingerprints so repid-gen can read it',
    );
  }
  const found: UpcastCall[] = [];
  for (const prop of inner.properties) {
    const location = locate(root, prop);
    if (!ts.isPropertyAssignment(prop) && !ts.isMethodDeclaration(prop))
      throw errorAt(location, 'upcast entries must be `"<fingerprint>": (old: OldArgs) => Args`');
    const key = upcastKey(prop.name, checker);
    if (key === undefined || !FINGERPRINT.test(key)) {
      throw errorAt(
        location,
        `upcast key ${key === undefined ? "" : `"${key}" `}is not a schema fingerprint (12 hex digits, as the generated registry's \`fingerprint\` of the older version)`,
      );
    }
    const fn = ts.isPropertyAssignment(prop) ? skipParens(prop.initializer) : prop;
    let param: ts.ParameterDeclaration | undefined;
    if (ts.isArrowFunction(fn) || ts.isFunctionExpression(fn) || ts.isMethodDeclaration(fn))
      param = fn.parameters[0];
    else {
      const declared = checker.getTypeAtLocation(fn).getCallSignatures()[0]?.getParameters()[0];
      const decl = declared?.valueDeclaration;
      if (decl && ts.isParameter(decl)) param = decl;
    }
    found.push({
      fingerprint: key,
      ...(param?.type
        ? { paramType: checker.getTypeFromTypeNode(param.type), paramNode: param.type }
        : {}),
      location,
    });
  }
  return found;
}

function readOptions(
  node: ts.Expression,
  checker: ts.TypeChecker,
  root: string,
): Map<string, OptionValue> {
  const inner = skipParens(node);
  if (!ts.isObjectLiteralExpression(inner)) {
    throw errorAt(
      locate(root, node),
      "actor options must be an object literal so repid-gen can read them",
    );
  }
  const options = new Map<string, OptionValue>();
  for (const prop of inner.properties) {
    if (!ts.isPropertyAssignment(prop) && !ts.isShorthandPropertyAssignment(prop)) {
      throw errorAt(locate(root, prop), "actor options cannot use spreads, methods or accessors");
    }
    const key =
      ts.isIdentifier(prop.name) || ts.isStringLiteral(prop.name) ? prop.name.text : undefined;
    if (key === undefined)
      throw errorAt(locate(root, prop), "actor option names must be plain identifiers");
    const valueNode = ts.isPropertyAssignment(prop) ? prop.initializer : prop.name;
    options.set(key, {
      key,
      value: literalValue(checker.getTypeAtLocation(valueNode)),
      location: locate(root, valueNode),
      node: valueNode,
    });
  }
  return options;
}

/**
 * An upcast key: a fingerprint written out, or a computed key whose type is a string literal
 * (`[v1.registry.welcome.fingerprint]`, read from a copy of the previous registry).
 */
function upcastKey(name: ts.PropertyName, checker: ts.TypeChecker): string | undefined {
  if (ts.isIdentifier(name) || ts.isStringLiteral(name)) return name.text;
  if (ts.isComputedPropertyName(name)) {
    const type = checker.getTypeAtLocation(name.expression);
    return type.isStringLiteral() ? type.value : undefined;
  }
  return undefined;
}

/**
 * The signature of an inline function whose parameters all have type annotations, read from
 * the function itself: asking for the type of the argument would make the checker resolve the
 * whole `actor(...)` call (its overloads and contextual types), the costliest part of a scan.
 */
function ownSignature(fn: ts.Expression, checker: ts.TypeChecker): ts.Signature | undefined {
  if (!ts.isArrowFunction(fn) && !ts.isFunctionExpression(fn)) return undefined;
  if (fn.typeParameters || fn.parameters.some((p) => !p.type)) return undefined;
  return checker.getSignatureFromDeclaration(fn);
}

type FunctionNode =
  ts.FunctionDeclaration | ts.FunctionExpression | ts.ArrowFunction | ts.MethodDeclaration;

/** The function node behind an inline function or a reference to one (through imports). */
function functionDeclarationOf(
  expr: ts.Expression,
  checker: ts.TypeChecker,
): FunctionNode | undefined {
  const inner = skipParens(expr);
  if (ts.isFunctionExpression(inner) || ts.isArrowFunction(inner)) return inner;
  if (!ts.isIdentifier(inner) && !ts.isPropertyAccessExpression(inner)) return undefined;
  let symbol = checker.getSymbolAtLocation(inner);
  if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
  const declaration = symbol?.valueDeclaration ?? symbol?.declarations?.[0];
  if (!declaration) return undefined;
  if (ts.isFunctionDeclaration(declaration) || ts.isMethodDeclaration(declaration))
    return declaration;
  if (ts.isVariableDeclaration(declaration) && declaration.initializer) {
    const init = skipParens(declaration.initializer);
    if (ts.isFunctionExpression(init) || ts.isArrowFunction(init)) return init;
  }
  return undefined;
}

/** What `fn.name` is at run time, as far as the source tells. */
function functionName(arg: ts.Expression, fnNode: ts.Node): string | undefined {
  if ((ts.isFunctionDeclaration(fnNode) || ts.isFunctionExpression(fnNode)) && fnNode.name)
    return fnNode.name.text;
  if (ts.isMethodDeclaration(fnNode) && ts.isIdentifier(fnNode.name)) return fnNode.name.text;
  if (
    (ts.isArrowFunction(fnNode) || ts.isFunctionExpression(fnNode)) &&
    ts.isVariableDeclaration(fnNode.parent)
  ) {
    const name = fnNode.parent.name;
    return ts.isIdentifier(name) ? name.text : undefined;
  }
  void arg;
  return undefined;
}

function isAsync(fnNode: ts.Node): boolean {
  return (
    ts.canHaveModifiers(fnNode) &&
    (ts.getModifiers(fnNode) ?? []).some((m) => m.kind === ts.SyntaxKind.AsyncKeyword)
  );
}

/** The TSDoc of the function, or of the variable the call's result is stored in, if it has one. */
function docOf(
  fnNode: ts.Node,
  checker: ts.TypeChecker,
): { doc: string; tags: DocTag[] } | undefined {
  let target: ts.Node = fnNode;
  if (ts.isCallExpression(fnNode) && ts.isVariableDeclaration(fnNode.parent)) {
    target = fnNode.parent.name;
  } else if (
    (ts.isArrowFunction(fnNode) || ts.isFunctionExpression(fnNode)) &&
    ts.isVariableDeclaration(fnNode.parent)
  ) {
    target = fnNode.parent.name;
  } else if (ts.isFunctionDeclaration(fnNode) && fnNode.name) {
    target = fnNode.name;
  }
  const symbol = checker.getSymbolAtLocation(target);
  if (!symbol) return undefined;
  const doc = docComment(symbol, checker);
  const tags = docTags(symbol, checker);
  return doc === "" && tags.length === 0 ? undefined : { doc, tags };
}
