import type { NamedType, TypeNode } from "../codegen/model.js";

/** Whether a type is written as producers send it (`input`) or as the actor receives it (`output`). */
export type TypeMode = "input" | "output";

/** How to print references: the names whose input form differs get an `Input` twin. */
export interface TypeTextContext {
  readonly mode: TypeMode;
  readonly distinct: ReadonlySet<string>;
  readonly inputName: (name: string) => string;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** A property key as written in source: bare when it is an identifier, quoted otherwise. */
export function propertyKey(name: string): string {
  return IDENTIFIER.test(name) ? name : JSON.stringify(name);
}

/** TSDoc for a declaration or property, or nothing. */
export function docComment(doc: string | undefined): string {
  if (!doc) return "";
  const lines = doc.replace(/\*\//g, "*\\/").split("\n");
  return lines.length === 1
    ? `/** ${lines[0]} */\n`
    : `/**\n${lines.map((l) => ` * ${l}`).join("\n")}\n */\n`;
}

/** The TypeScript text of a type. */
export function typeText(type: TypeNode, ctx: TypeTextContext): string {
  switch (type.kind) {
    case "string":
    case "number":
    case "boolean":
    case "null":
    case "undefined":
    case "void":
    case "any":
    case "never":
      return type.kind;
    // Producers send a JSON value (see `JSON_INPUT`); the actor reads whatever came.
    case "unknown":
      return ctx.mode === "input" ? JSON_INPUT : "unknown";
    case "date":
      return ctx.mode === "input" ? "Date | string" : "Date";
    case "literal":
      return JSON.stringify(type.value);
    case "enum-member":
      return IDENTIFIER.test(type.member)
        ? `${type.enumName}.${type.member}`
        : `(typeof ${type.enumName})[${JSON.stringify(type.member)}]`;
    case "ref":
      return ctx.mode === "input" && ctx.distinct.has(type.name)
        ? ctx.inputName(type.name)
        : type.name;
    case "array": {
      const inner = typeText(type.element, ctx);
      const text = needsParens(type.element) ? `(${inner})[]` : `${inner}[]`;
      return type.readonly ? `readonly ${text}` : text;
    }
    case "tuple": {
      const parts = type.elements.map((e) => {
        const t = typeText(e.type, ctx);
        const wrapped = needsParens(e.type) ? `(${t})` : t;
        return e.kind === "optional" ? `${wrapped}?` : e.kind === "rest" ? `...${wrapped}[]` : t;
      });
      return `${type.readonly ? "readonly " : ""}[${parts.join(", ")}]`;
    }
    case "template":
      return templateText(type.parts, ctx);
    case "branded":
      return `${typeText(type.base, ctx)} & ${typeText(type.brand, ctx)}`;
    case "object":
      return objectText(type, ctx);
    // An index signature, not `Record<string, V>`: a recursive alias may refer to itself in it.
    case "record":
      return `{ [key: string]: ${valueText(type.value, ctx)} }`;
    case "union": {
      // A Date reads `Date | string` for producers: beside `string`, `Date` says it.
      const hasString = type.members.some((m) => m.kind === "string");
      const texts = type.members.map((m) =>
        m.kind === "date" && hasString ? "Date" : typeText(m, ctx),
      );
      return texts.join(" | ");
    }
    case "intersection":
      return type.members
        .map((m) => (needsParens(m) ? `(${typeText(m, ctx)})` : typeText(m, ctx)))
        .join(" & ");
  }
}

function templateText(parts: readonly (string | TypeNode)[], ctx: TypeTextContext): string {
  const text = parts
    .map((p) =>
      typeof p === "string" ? p.replace(/[`\\]|\$\{/g, (m) => `\\${m}`) : `\${${typeText(p, ctx)}}`,
    )
    .join("");
  return `\`${text}\``;
}

/**
 * The type producers send for `unknown`, declared in the generated module when used: a JSON
 * value, so that a `Map`, a class instance or a function fails to compile. An object's key may
 * hold `undefined`, which JSON leaves out; an array's element may not (JSON would write `null`).
 */
export const JSON_INPUT = "JsonInput";

/** The declaration of `JSON_INPUT`. */
export const JSON_INPUT_DECLARATION = `${docComment("What producers may send for `unknown`: a JSON value. A key may hold `undefined`, which JSON\nleaves out. A value typed by an interface needs a type alias instead: only those have the\nimplicit index signature this asks for.")}export type ${JSON_INPUT} = string | number | boolean | null | readonly ${JSON_INPUT}[] | { readonly [key: string]: ${JSON_INPUT} | undefined };`;

/** True when a value of `type` may be `undefined`. */
export function acceptsUndefined(type: TypeNode): boolean {
  return (
    type.kind === "undefined" ||
    type.kind === "unknown" ||
    type.kind === "any" ||
    type.kind === "void" ||
    (type.kind === "union" && type.members.some(acceptsUndefined))
  );
}

/** True when the text of `type` already admits `undefined` (`unknown` reads `JsonInput` for producers). */
function printsUndefined(type: TypeNode, mode: TypeMode): boolean {
  if (type.kind === "unknown") return mode === "output";
  if (type.kind === "union") return type.members.some((m) => printsUndefined(m, mode));
  return acceptsUndefined(type);
}

/**
 * The value of a property or an index signature, which may be `undefined` where the type says
 * so: JSON leaves such a key out, and the schema lets it be missing.
 */
function valueText(type: TypeNode, ctx: TypeTextContext, optional = false): string {
  const text = typeText(type, ctx);
  const orUndefined = (optional || acceptsUndefined(type)) && !printsUndefined(type, ctx.mode);
  return orUndefined ? `${text} | undefined` : text;
}

function needsParens(type: TypeNode): boolean {
  return (
    type.kind === "union" ||
    type.kind === "intersection" ||
    type.kind === "date" ||
    type.kind === "branded" ||
    (type.kind === "array" && type.readonly === true) ||
    (type.kind === "tuple" && type.readonly === true)
  );
}

function objectText(type: Extract<TypeNode, { kind: "object" }>, ctx: TypeTextContext): string {
  // An optional key also takes `undefined`, so producers compile under exactOptionalPropertyTypes.
  const members = type.properties.map((p) => {
    const value = valueText(p.type, ctx, p.optional);
    return `${docComment(p.doc)}${p.readonly ? "readonly " : ""}${propertyKey(p.name)}${p.optional ? "?" : ""}: ${value};`;
  });
  if (type.index) members.push(`[key: string]: ${valueText(type.index, ctx)};`);
  for (const p of type.patterns ?? [])
    members.push(`[key: ${typeText(p.key, ctx)}]: ${valueText(p.value, ctx)};`);
  return members.length === 0 ? "{}" : `{\n${members.join("\n")}\n}`;
}

/** The declaration(s) of a named type: its output form, and its input twin when that differs. */
export function namedTypeDeclarations(
  named: NamedType,
  ctx: Omit<TypeTextContext, "mode">,
): string {
  const doc = docComment(named.doc);
  if (named.kind === "enum") {
    const members = named.members.map(
      (m) => `${propertyKey(m.name)} = ${JSON.stringify(m.value)},`,
    );
    return `${doc}export enum ${named.name} {\n${members.join("\n")}\n}`;
  }
  const out = declaration(named.name, named.type, { ...ctx, mode: "output" }, doc);
  if (!ctx.distinct.has(named.name)) return out;
  const inputDoc = docComment(`What producers may send for {@link ${named.name}}.`);
  return `${out}\n\n${declaration(ctx.inputName(named.name), named.type, { ...ctx, mode: "input" }, inputDoc)}`;
}

/** `export interface` for plain object types, `export type` for everything else. */
export function declaration(
  name: string,
  type: TypeNode,
  ctx: TypeTextContext,
  doc: string,
): string {
  if (type.kind === "object" && !type.index && !type.patterns)
    return `${doc}export interface ${name} ${objectText(type, ctx)}`;
  return `${doc}export type ${name} = ${typeText(type, ctx)};`;
}
