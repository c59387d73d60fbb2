/**
 * The plain model between scanning and emitting: actors and the types their signatures use,
 * as a small type IR. It holds no compiler objects, so templates stay pure functions of data.
 */

/** A place in a user's source, for messages. `file` is a POSIX path relative to the root. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/** One property of an object type. */
export interface PropertyNode {
  readonly name: string;
  readonly type: TypeNode;
  readonly optional: boolean;
  readonly readonly: boolean;
  /** The property's own TSDoc text, kept in the generated types. */
  readonly doc?: string;
}

/** The type IR: every type an actor can take or return, and nothing that cannot be JSON. */
export type TypeNode =
  | { readonly kind: "string" }
  | { readonly kind: "number" }
  | { readonly kind: "boolean" }
  | { readonly kind: "null" }
  | { readonly kind: "undefined" }
  /** A result of `void` (or `Promise<void>`). */
  | { readonly kind: "void" }
  /** `unknown`: any JSON value. */
  | { readonly kind: "unknown" }
  /** `any`, only with `--allow-any`. */
  | { readonly kind: "any" }
  | { readonly kind: "never" }
  /** A `Date`: producers may send a `Date` or an ISO string; the actor receives a `Date`. */
  | { readonly kind: "date" }
  | { readonly kind: "literal"; readonly value: string | number | boolean }
  /** One member of a named enum, such as `Color.Red`. */
  | { readonly kind: "enum-member"; readonly enumName: string; readonly member: string }
  /** `T[]`; `readonly` for `readonly T[]` and `ReadonlyArray<T>`. */
  | { readonly kind: "array"; readonly element: TypeNode; readonly readonly?: boolean }
  /** A tuple, its elements in source order: a rest element may stand anywhere (`[...T[], U]`). */
  | {
      readonly kind: "tuple";
      readonly elements: readonly TupleElement[];
      readonly readonly?: boolean;
    }
  /** A template literal type: `parts` alternate text and the types between them. */
  | { readonly kind: "template"; readonly parts: readonly (string | TypeNode)[] }
  /**
   * A branded primitive, `string & { __brand: "UserId" }`: the run-time check is the base
   * type's, the compile-time type keeps the brand (an object type, written inline).
   */
  | { readonly kind: "branded"; readonly base: TypeNode; readonly brand: TypeNode }
  | {
      readonly kind: "object";
      readonly properties: readonly PropertyNode[];
      /** The value type of a string index signature next to the properties. */
      readonly index?: TypeNode;
      /**
       * Index signatures whose keys are narrower than `string` (`[i: number]: V`,
       * `` [k: `data-${string}`]: V ``): a key no property names must match one of them.
       */
      readonly patterns?: readonly KeyPattern[];
    }
  /** `Record<string, V>` or `{ [key: string]: V }`. */
  | { readonly kind: "record"; readonly value: TypeNode }
  | { readonly kind: "union"; readonly members: readonly TypeNode[] }
  | { readonly kind: "intersection"; readonly members: readonly TypeNode[] }
  /** A reference to a named type of the model, by its (unique) generated name. */
  | { readonly kind: "ref"; readonly name: string };

/**
 * An index signature keyed by a pattern: `key` is `number` (keys that read as numbers, as
 * TypeScript's numeric index signatures take them) or a template literal type.
 */
export interface KeyPattern {
  readonly key: TypeNode;
  readonly value: TypeNode;
}

/** A TSDoc block tag, such as `@deprecated Use x.`, as written in the source. */
export interface DocTag {
  /** Without the `@`. */
  readonly name: string;
  readonly text: string;
}

/** One element of a tuple type. */
export interface TupleElement {
  readonly type: TypeNode;
  /** `required` (`T`), `optional` (`T?`) or `rest` (`...T[]`, whose `type` is the element). */
  readonly kind: "required" | "optional" | "rest";
}

/** Something repid-gen accepted but the user should know about (such as `any` with --allow-any). */
export interface CodegenWarning {
  readonly location: SourceLocation;
  readonly message: string;
}

/** A named type the generated module declares. */
export type NamedType =
  | {
      readonly kind: "alias";
      /** Unique in the generated module. */
      readonly name: string;
      readonly type: TypeNode;
      /** The name of the producer-side twin, present when it differs (the type holds a `Date`). */
      readonly inputName?: string;
      readonly doc?: string;
      /** Where the original declaration is. */
      readonly source: SourceLocation;
    }
  | {
      readonly kind: "enum";
      readonly name: string;
      readonly members: readonly { readonly name: string; readonly value: string | number }[];
      readonly doc?: string;
      readonly source: SourceLocation;
    };

/** The exported names of one actor's types and schemas in the generated module. */
export interface ActorNames {
  /** Type of the arguments producers send; absent when the actor takes none. */
  readonly args?: string;
  /** Type of the arguments the actor receives, present only when it differs from `args`. */
  readonly parsedArgs?: string;
  readonly argsSchema?: string;
  /** True when `args` is a named type declared elsewhere in the module (no alias needed). */
  readonly argsIsNamedType?: boolean;
  readonly result: string;
  readonly resultSchema: string;
  /** Type and schema of the progress values; absent when the actor's context names none. */
  readonly progress?: string;
  readonly progressSchema?: string;
}

/** One actor as the generated registry describes it. */
export interface ActorModel {
  /** The actor name messages are routed on. */
  readonly name: string;
  /** The property of the generated client: the name in camelCase. */
  readonly property: string;
  /** PascalCase stem for the actor's exported type names. */
  readonly typeStem: string;
  readonly queue: string;
  /** Default job timeout, as written in the actor's options. */
  readonly timeout?: number | string;
  readonly hasRetryPolicy: boolean;
  readonly runInProcess: boolean;
  readonly storeResult?: boolean | number | string;
  /** "async" actors run on the event loop; sync ones in a thread or process. */
  readonly mode: "async" | "sync";
  /** `undefined` when the actor takes no arguments. */
  readonly args: TypeNode | undefined;
  readonly result: TypeNode;
  /**
   * What the actor reports with `ctx.progress(value)`, read from its `JobContext<P>` parameter;
   * absent when it names no progress type. Not part of the fingerprint: progress travels beside
   * the messages, not in them.
   */
  readonly progress?: TypeNode;
  readonly names: ActorNames;
  readonly doc?: string;
  /** The block tags of the actor's TSDoc (`@deprecated`, `@see`...), kept on its client property. */
  readonly tags?: readonly DocTag[];
  readonly source: SourceLocation;
  /** The schema fingerprint (see `shape.ts`): messages carry it in their headers. */
  readonly fingerprint: string;
  /** The wire shapes of `args` and `result`. */
  readonly shapes: { readonly args: Shape | undefined; readonly result: Shape };
  /** Upcasters the actor declares (`upcast` option), by the fingerprint they read. */
  readonly upcasts: readonly ActorUpcast[];
  /** The `concurrency` option, as the actor's file writes it. */
  readonly concurrency?: ConcurrencyOption;
  /** The `rateLimit` option, as the actor's file writes it. */
  readonly rateLimit?: RateLimitOption;
}

/**
 * An actor's `concurrency` option: a number (per actor) or `{ limit, key }`, `key` a dotted path
 * into the arguments that ends at a string or a number.
 */
export type ConcurrencyOption = number | { readonly limit: number; readonly key?: string };

/** An actor's `rateLimit` option; `per` is a duration as written (milliseconds or `"1m"`). */
export interface RateLimitOption {
  readonly limit: number;
  readonly per: number | string;
  readonly key?: string;
}

/** The limits an actor declares across every worker (each only when written). */
export interface ActorLimits {
  readonly concurrency?: ConcurrencyOption;
  readonly rateLimit?: RateLimitOption;
}

/** One upcaster an actor declares. */
export interface ActorUpcast {
  /** The older fingerprint it turns into the current arguments. */
  readonly fingerprint: string;
  /** The shape of its parameter's declared type; absent when it declares none. */
  readonly from?: Shape;
  readonly location: SourceLocation;
}

/**
 * Wire shapes (see `shape.ts`): an actor's types as its messages carry them, without names,
 * docs, `readonly` or brands, for the fingerprint and for `repid-gen --compat`.
 */
/** A wire shape. `k` names the kind. */
export type Shape =
  | {
      readonly k:
        | "string"
        | "number"
        | "boolean"
        | "null"
        | "undefined"
        | "unknown"
        | "any"
        | "never"
        | "date";
    }
  | { readonly k: "literal"; readonly v: string | number | boolean }
  | { readonly k: "array"; readonly of: Shape }
  | { readonly k: "tuple"; readonly items: readonly ShapeItem[] }
  | { readonly k: "template"; readonly parts: readonly (string | Shape)[] }
  | {
      readonly k: "object";
      readonly props: readonly ShapeProp[];
      readonly index?: Shape;
      /** Index signatures keyed by a pattern (see `KeyPattern`). */
      readonly patterns?: readonly { readonly key: Shape; readonly of: Shape }[];
    }
  | { readonly k: "record"; readonly of: Shape }
  | { readonly k: "union"; readonly of: readonly Shape[] }
  | { readonly k: "intersection"; readonly of: readonly Shape[] }
  | { readonly k: "mu"; readonly body: Shape }
  | { readonly k: "rec"; readonly up: number };

export interface ShapeProp {
  readonly name: string;
  readonly optional: boolean;
  readonly type: Shape;
}

export interface ShapeItem {
  readonly kind: "required" | "optional" | "rest";
  readonly type: Shape;
}

/** What `--compat` needs to know of one actor. */
export interface ActorShape {
  readonly queue: string;
  readonly fingerprint: string;
  /** `undefined` when the actor takes no arguments. */
  readonly args: Shape | undefined;
  readonly result: Shape;
}

/** Everything the templates need to write the generated module. */
export interface GenModel {
  /** The command to regenerate, quoted in the banner. */
  readonly command: string;
  /** Sorted by name. */
  readonly actors: readonly ActorModel[];
  /** In emission order: each type after the ones it needs, recursion aside. */
  readonly types: readonly NamedType[];
  /** Warnings for the CLI to print; the generated text never depends on them. */
  readonly warnings?: readonly CodegenWarning[];
}

/** `type` with every reference (and enum name) renamed through `rename`. */
export function renameRefs(type: TypeNode, rename: (name: string) => string): TypeNode {
  const r = (t: TypeNode): TypeNode => renameRefs(t, rename);
  switch (type.kind) {
    case "ref":
      return { kind: "ref", name: rename(type.name) };
    case "enum-member":
      return { ...type, enumName: rename(type.enumName) };
    case "array":
      return { ...type, element: r(type.element) };
    case "tuple":
      return { ...type, elements: type.elements.map((e) => ({ ...e, type: r(e.type) })) };
    case "template":
      return { ...type, parts: type.parts.map((p) => (typeof p === "string" ? p : r(p))) };
    case "object":
      return {
        ...type,
        properties: type.properties.map((p) => ({ ...p, type: r(p.type) })),
        ...(type.index ? { index: r(type.index) } : {}),
        ...(type.patterns
          ? { patterns: type.patterns.map((p) => ({ key: r(p.key), value: r(p.value) })) }
          : {}),
      };
    case "record":
      return { ...type, value: r(type.value) };
    case "branded":
      return { ...type, base: r(type.base), brand: r(type.brand) };
    case "union":
    case "intersection":
      return { ...type, members: type.members.map(r) };
    default:
      return type;
  }
}

/**
 * The names of the types whose producer-side (input) form differs from what the actor receives
 * (output): those that contain a `Date` or `unknown` (for which producers send a JSON value),
 * directly or through references.
 */
export function typesWithDistinctInput(types: readonly NamedType[]): Set<string> {
  const result = new Set<string>();
  let changed = true;
  while (changed) {
    changed = false;
    for (const t of types) {
      if (result.has(t.name) || t.kind !== "alias") continue;
      if (containsDistinct(t.type, result)) {
        result.add(t.name);
        changed = true;
      }
    }
  }
  return result;
}

/** True when `type` reads differently as input and output, given the named types that do. */
export function containsDistinct(type: TypeNode, distinct: ReadonlySet<string>): boolean {
  if (type.kind === "date" || type.kind === "unknown") return true;
  if (type.kind === "ref") return distinct.has(type.name);
  switch (type.kind) {
    case "array":
      return containsDistinct(type.element, distinct);
    case "tuple":
      return type.elements.some((e) => containsDistinct(e.type, distinct));
    case "object":
      return (
        type.properties.some((p) => containsDistinct(p.type, distinct)) ||
        (type.index !== undefined && containsDistinct(type.index, distinct)) ||
        (type.patterns ?? []).some((p) => containsDistinct(p.value, distinct))
      );
    case "record":
      return containsDistinct(type.value, distinct);
    case "template":
    case "branded":
      return false;
    case "union":
    case "intersection":
      return type.members.some((m) => containsDistinct(m, distinct));
    default:
      return false;
  }
}
