import { ts } from "ts-morph";
import type { CodegenError } from "repid";
import {
  containsDistinct,
  typesWithDistinctInput,
  type ActorModel,
  type ActorNames,
  type ActorUpcast,
  type GenModel,
  type SourceLocation,
  type TypeNode,
} from "../model.js";
import { fingerprintOf, Shaper } from "../shape.js";
import { findActorCalls, type ActorCall } from "./actor-calls.js";
import { errorAt, formatLocation, locate, posixRelative } from "./location.js";
import { NameAllocator, camelCase, pascalCase } from "./names.js";
import { progressSite } from "./progress-type.js";
import { RepidClassDetector } from "./receiver.js";
import { withoutUndefined } from "./type-order.js";
import { TypeConverter } from "./types.js";

/** What the scanner needs to know. Paths are absolute or relative to `root`. */
export interface ScanOptions {
  readonly root: string;
  readonly tsconfig: string;
  /** Globs of actor files; a leading `!` excludes. */
  readonly actors: readonly string[];
  readonly allowAny: boolean;
  /** The command quoted in the banner. */
  readonly command: string;
}

/** Thrown when scanning finds problems; `errors` holds each, located at file:line:col. */
export class ScanFailure extends Error {
  readonly errors: readonly CodegenError[];

  constructor(errors: readonly CodegenError[]) {
    super(errors.map((e) => e.message).join("\n"));
    this.name = "ScanFailure";
    this.errors = errors;
  }
}

/**
 * Reads the actors of `files` with the type checker and returns the model. Read only: nothing
 * is written. Throws `ScanFailure` listing every problem found.
 */
export function scan(
  program: ts.Program,
  files: readonly string[],
  options: ScanOptions,
): GenModel {
  const checker = program.getTypeChecker();
  const errors: CodegenError[] = [];
  if (files.length === 0) {
    throw new ScanFailure([
      errorAt({ file: options.actors.join(", "), line: 1, column: 1 }, "no actor files match"),
    ]);
  }
  const detector = new RepidClassDetector(checker);
  const calls: ActorCall[] = [];
  for (const file of files) {
    const sourceFile = program.getSourceFile(file);
    if (!sourceFile) continue;
    const syntax = program.getSyntacticDiagnostics(sourceFile);
    if (syntax.length > 0) {
      for (const d of syntax) errors.push(diagnosticError(options.root, d));
      continue;
    }
    calls.push(...findActorCalls(sourceFile, checker, detector, options.root, errors));
  }
  const unique = dropDuplicates(calls, errors);
  unique.sort((a, b) => (a.call.name < b.call.name ? -1 : a.call.name > b.call.name ? 1 : 0));

  const converter = new TypeConverter(program, {
    root: options.root,
    allowAny: options.allowAny,
  });
  const converted: ActorDraft[] = [];
  // Upcasters' parameter types are read apart: they describe older versions, and never become
  // types of the generated module.
  const upcastConverter = new TypeConverter(program, { root: options.root, allowAny: true });
  const upcastTypes = new Map<ActorCall["upcasts"][number], TypeNode>();
  for (const { call, property } of unique) {
    try {
      converted.push(toActorModel(call, property, checker, converter, options.root));
      for (const u of call.upcasts) {
        if (!u.paramType) continue;
        upcastTypes.set(
          u,
          upcastConverter.convert(
            u.paramType,
            { location: u.location, actor: call.name, what: "upcast", typeNode: u.paramNode },
            "upcast",
          ),
        );
      }
    } catch (error) {
      if (error instanceof Error && (error as { code?: unknown }).code === "CODEGEN")
        errors.push(error as CodegenError);
      else throw error;
    }
  }
  errors.push(...converter.errors, ...upcastConverter.errors);
  if (errors.length > 0) throw new ScanFailure(sortErrors(errors));
  // Names are handed out only once every type is known, each from its own declaration.
  const names = new NameAllocator();
  const finished = converter.finish(names);
  const distinct = typesWithDistinctInput(finished.types);
  const types = finished.types.map((t) =>
    t.kind === "alias" && distinct.has(t.name)
      ? { ...t, inputName: names.allocate(`${t.name}Input`) }
      : t,
  );
  const shaper = new Shaper(types);
  const upcastFinished = upcastConverter.finish(new NameAllocator());
  const upcastShaper = new Shaper(upcastFinished.types);
  const actors = converted.map(({ call, ...actor }): ActorModel => {
    const renamed = {
      ...actor,
      args: actor.args && finished.rename(actor.args),
      result: finished.rename(actor.result),
      ...(actor.progress ? { progress: finished.rename(actor.progress) } : {}),
    };
    const shapes = {
      args: renamed.args && shaper.shape(renamed.args),
      result: shaper.shape(renamed.result),
    };
    const upcasts = call.upcasts.map((u): ActorUpcast => {
      const from = upcastTypes.get(u);
      return {
        fingerprint: u.fingerprint,
        ...(from ? { from: upcastShaper.shape(upcastFinished.rename(from)) } : {}),
        location: u.location,
      };
    });
    return {
      ...renamed,
      names: actorNames(renamed, distinct, names),
      fingerprint: fingerprintOf(shapes.args, shapes.result),
      shapes,
      upcasts,
    };
  });
  const warnings = [...converter.warnings].sort(
    (a, b) =>
      a.location.file.localeCompare(b.location.file) ||
      a.location.line - b.location.line ||
      a.location.column - b.location.column,
  );
  return { command: options.command, actors, types, ...(warnings.length ? { warnings } : {}) };
}

/** An actor before names, shapes and fingerprint are known, with the call it came from. */
type ActorDraft = Omit<ActorModel, "names" | "fingerprint" | "shapes" | "upcasts"> & {
  readonly call: ActorCall;
};

function actorNames(
  actor: Omit<ActorDraft, "call">,
  distinct: ReadonlySet<string>,
  names: NameAllocator,
): ActorNames {
  const stem = actor.typeStem;
  const result = names.allocate(`${stem}Result`);
  const progress = actor.progress ? names.allocate(`${stem}Progress`) : undefined;
  const base = {
    result,
    resultSchema: `${result}Schema`,
    ...(progress ? { progress, progressSchema: `${progress}Schema` } : {}),
  };
  if (!actor.args) return base;
  const wanted = `${stem}Args`;
  const differs = containsDistinct(actor.args, distinct);
  if (actor.args.kind === "ref" && actor.args.name === wanted && !differs) {
    return { ...base, args: wanted, argsSchema: `${wanted}Schema`, argsIsNamedType: true };
  }
  const args = names.allocate(wanted);
  const parsedArgs = differs ? names.allocate(`${stem}ParsedArgs`) : undefined;
  return { ...base, args, argsSchema: `${args}Schema`, ...(parsedArgs ? { parsedArgs } : {}) };
}

function toActorModel(
  call: ActorCall,
  property: string,
  checker: ts.TypeChecker,
  converter: TypeConverter,
  root: string,
): ActorDraft {
  const signature = call.signature;
  const [param, second] = signature.getParameters();
  const paramDecl = param?.valueDeclaration;
  if (paramDecl && ts.isParameter(paramDecl) && paramDecl.dotDotDotToken) {
    throw errorAt(
      locate(root, paramDecl),
      `actor "${call.name}": the arguments cannot be a rest parameter`,
    );
  }
  let args: TypeNode | undefined;
  if (param) {
    const location = paramDecl ? locate(root, paramDecl) : call.location;
    const type = checker.getTypeOfSymbolAtLocation(param, paramDecl ?? call.fnNode);
    const typeNode = paramDecl && ts.isParameter(paramDecl) ? paramDecl.type : undefined;
    let node = converter.convert(
      type,
      { location, actor: call.name, what: "args", typeNode },
      "args",
    );
    // A default value (`args = { width: 100 }`) makes the arguments optional for producers;
    // the actor applies its default when it receives none.
    if (
      paramDecl &&
      ts.isParameter(paramDecl) &&
      paramDecl.initializer &&
      !(node.kind === "union" && node.members.some((m) => m.kind === "undefined"))
    ) {
      node = { kind: "union", members: [node, { kind: "undefined" }] };
    }
    args = node.kind === "undefined" || node.kind === "void" ? undefined : node;
  }
  const returnType = signature.getReturnType();
  const awaited = checker.getAwaitedType(returnType) ?? returnType;
  const returnLocation = returnLocationOf(call.fnNode, root) ?? call.location;
  const returnNode = ts.isFunctionLike(call.fnNode) ? call.fnNode.type : undefined;
  let result = converter.convert(
    awaited,
    { location: returnLocation, actor: call.name, what: "result", typeNode: returnNode },
    "result",
  );
  if (result.kind === "undefined") result = { kind: "void" };
  if (result.kind === "union" && result.members.some((m) => m.kind === "void")) {
    result = withoutUndefined({
      kind: "union",
      members: result.members.filter((m) => m.kind !== "void"),
    });
  }
  const site = progressSite(second, checker, root);
  const progress =
    site &&
    converter.convert(
      site.type,
      { location: site.location, actor: call.name, what: "progress", typeNode: site.typeNode },
      "progress",
    );
  return {
    name: call.name,
    property,
    typeStem: pascalCase(property),
    queue: call.queue,
    ...(call.timeout !== undefined ? { timeout: call.timeout } : {}),
    hasRetryPolicy: call.hasRetryPolicy,
    runInProcess: call.runInProcess,
    ...(call.storeResult !== undefined ? { storeResult: call.storeResult } : {}),
    ...(call.concurrency !== undefined ? { concurrency: call.concurrency } : {}),
    ...(call.rateLimit !== undefined ? { rateLimit: call.rateLimit } : {}),
    mode: call.mode,
    args,
    result,
    ...(progress ? { progress } : {}),
    ...(call.doc ? { doc: call.doc } : {}),
    ...(call.tags.length > 0 ? { tags: call.tags } : {}),
    source: call.location,
    call,
  };
}

function returnLocationOf(fnNode: ts.Node, root: string): SourceLocation | undefined {
  if (ts.isFunctionLike(fnNode) && fnNode.type) return locate(root, fnNode.type);
  if (ts.isFunctionLike(fnNode) && fnNode.name) return locate(root, fnNode.name);
  return undefined;
}

/** Keeps the first registration of each name and property; later ones are errors naming both. */
function dropDuplicates(
  calls: readonly ActorCall[],
  errors: CodegenError[],
): { call: ActorCall; property: string }[] {
  const byName = new Map<string, ActorCall>();
  const byProperty = new Map<string, ActorCall>();
  const kept: { call: ActorCall; property: string }[] = [];
  for (const call of calls) {
    const property = camelCase(call.name);
    if (property === undefined) {
      errors.push(
        errorAt(call.location, `actor name "${call.name}" gives no valid client property name`),
      );
      continue;
    }
    const sameName = byName.get(call.name);
    if (sameName) {
      errors.push(
        errorAt(
          call.location,
          `duplicate actor name "${call.name}": also defined at ${formatLocation(sameName.location)}`,
        ),
      );
      continue;
    }
    const sameProperty = byProperty.get(property);
    if (sameProperty) {
      errors.push(
        errorAt(
          call.location,
          `actor "${call.name}" maps to client property "${property}", as does actor "${sameProperty.name}" at ${formatLocation(sameProperty.location)}`,
        ),
      );
      continue;
    }
    byName.set(call.name, call);
    byProperty.set(property, call);
    kept.push({ call, property });
  }
  return kept;
}

function diagnosticError(root: string, d: ts.Diagnostic): CodegenError {
  const text = ts.flattenDiagnosticMessageText(d.messageText, "\n");
  if (!d.file || d.start === undefined) return errorAt({ file: "?", line: 1, column: 1 }, text);
  const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
  return errorAt(
    { file: posixRelative(root, d.file.fileName), line: line + 1, column: character + 1 },
    text,
  );
}

function sortErrors(errors: CodegenError[]): CodegenError[] {
  return [...errors].sort(
    (a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column,
  );
}
