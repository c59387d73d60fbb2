import { ts } from "ts-morph";
import type { NamedType, PropertyNode, SourceLocation, TypeNode } from "../model.js";
import { errorAt, locate, objectFlags } from "./location.js";
import type { NameAllocator } from "./names.js";

/** Where a conversion started, for error messages: the parameter or function, and a path. */
export interface ConvertSite {
  readonly location: SourceLocation;
  readonly actor: string;
  /** What is being converted, such as `args` or `result`. */
  readonly what: string;
}

export interface TypeConverterOptions {
  readonly root: string;
  readonly allowAny: boolean;
  readonly names: NameAllocator;
}

const F = ts.TypeFlags;

/**
 * Turns checker types into the model's type IR. Named types (interfaces, aliases, enums, and
 * generic instantiations) are collected once each, in dependency order; anything that is not a
 * JSON value throws a `CodegenError` at the site.
 */
export class TypeConverter {
  readonly #checker: ts.TypeChecker;
  readonly #program: ts.Program;
  readonly #options: TypeConverterOptions;
  readonly #namedByType = new Map<ts.Type, string>();
  readonly #enumsBySymbol = new Map<ts.Symbol, string>();
  readonly #declarations: NamedType[] = [];

  constructor(program: ts.Program, options: TypeConverterOptions) {
    this.#program = program;
    this.#checker = program.getTypeChecker();
    this.#options = options;
  }

  /** The named types met so far, each after the ones it needs (cycles aside). */
  get namedTypes(): readonly NamedType[] {
    return this.#declarations;
  }

  /** Converts `type`, naming `path` (like `args.user`) in errors. */
  convert(type: ts.Type, site: ConvertSite, path: string): TypeNode {
    const f = type.flags;
    const fail = (why: string) => {
      return errorAt(site.location, `actor "${site.actor}": ${path} ${why}`);
    };
    if (f & F.Any) {
      if (this.#options.allowAny) return { kind: "any" };
      throw fail("is `any`, which cannot be validated; give it a type, or pass --allow-any");
    }
    if (f & F.Unknown) return { kind: "unknown" };
    if (f & F.Never) return { kind: "never" };
    if (f & (F.BigInt | F.BigIntLiteral)) throw fail("is a bigint, which is not a JSON value");
    if (f & (F.ESSymbol | F.UniqueESSymbol)) throw fail("is a symbol, which is not a JSON value");
    if (f & F.TypeParameter)
      throw fail("is a generic type parameter; actors must have concrete types");
    if (f & (F.TemplateLiteral | F.StringMapping))
      throw fail("is a template literal type, which is not supported");
    if (f & F.NonPrimitive) throw fail("is `object`; describe its properties");
    if (f & F.Null) return { kind: "null" };
    if (f & F.Undefined) return { kind: "undefined" };
    if (f & F.Void) return { kind: "void" };
    if (f & F.String) return { kind: "string" };
    if (f & F.Number) return { kind: "number" };
    if (
      f & F.EnumLiteral &&
      !(f & F.Union) &&
      type.symbol &&
      type.symbol.flags & ts.SymbolFlags.EnumMember
    ) {
      return this.#enumMember(type.symbol, site, fail);
    }
    if (
      type.symbol &&
      type.symbol.flags & ts.SymbolFlags.Enum &&
      !(type.symbol.flags & ts.SymbolFlags.EnumMember)
    ) {
      return { kind: "ref", name: this.#enum(type.symbol, fail) };
    }
    if (f & F.Boolean) return { kind: "boolean" };
    if (f & F.StringLiteral)
      return { kind: "literal", value: (type as ts.StringLiteralType).value };
    if (f & F.NumberLiteral)
      return { kind: "literal", value: (type as ts.NumberLiteralType).value };
    if (f & F.BooleanLiteral)
      return { kind: "literal", value: this.#checker.typeToString(type) === "true" };

    const named = this.#namedInfo(type);
    if (named) {
      const existing = this.#namedByType.get(type);
      if (existing !== undefined) return { kind: "ref", name: existing };
      const name = this.#options.names.allocate(named.name);
      this.#namedByType.set(type, name);
      const body = this.#structure(type, site, path, fail);
      this.#declarations.push({
        kind: "alias",
        name,
        type: body,
        ...(named.doc ? { doc: named.doc } : {}),
        source: named.source,
      });
      return { kind: "ref", name };
    }
    return this.#structure(type, site, path, fail);
  }

  #structure(
    type: ts.Type,
    site: ConvertSite,
    path: string,
    fail: (why: string) => Error,
  ): TypeNode {
    const checker = this.#checker;
    if (type.isUnion()) {
      const members: TypeNode[] = [];
      let sawTrue = false;
      let sawFalse = false;
      for (const member of type.types) {
        if (member.flags & F.BooleanLiteral) {
          if (checker.typeToString(member) === "true") sawTrue = true;
          else sawFalse = true;
          continue;
        }
        members.push(this.convert(member, site, path));
      }
      if (sawTrue && sawFalse) members.push({ kind: "boolean" });
      else if (sawTrue || sawFalse) members.push({ kind: "literal", value: sawTrue });
      // The checker orders members by type id, which depends on what it met first: sort instead.
      members.sort(compareTypeNodes);
      return members.length === 1 ? members[0]! : { kind: "union", members };
    }
    if (type.isIntersection()) {
      const members = type.types.map((m) => this.convert(m, site, path));
      if (members.some((m) => m.kind !== "object" && m.kind !== "ref" && m.kind !== "record")) {
        throw fail(
          "is an intersection with a non-object type (a branded primitive?), which is not supported",
        );
      }
      return { kind: "intersection", members };
    }
    if (!(type.flags & F.Object))
      throw fail(`has type \`${checker.typeToString(type)}\`, which is not supported`);
    if (checker.getSignaturesOfType(type, ts.SignatureKind.Call).length > 0) {
      throw fail("is a function, which cannot be sent in a message");
    }
    if (checker.getSignaturesOfType(type, ts.SignatureKind.Construct).length > 0) {
      throw fail("is a class constructor, which cannot be sent in a message");
    }
    const symbol = type.getSymbol();
    if (symbol?.getName() === "Date" && this.#fromLib(symbol)) return { kind: "date" };
    if (checker.isArrayType(type)) {
      const [element] = checker.getTypeArguments(type as ts.TypeReference);
      return { kind: "array", element: this.convert(element!, site, `${path}[]`) };
    }
    if (checker.isTupleType(type)) return this.#tuple(type as ts.TupleTypeReference, site, path);
    if (symbol && this.#fromLib(symbol) && !(symbol.flags & ts.SymbolFlags.TypeLiteral)) {
      if (symbol.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.Class)) {
        throw fail(`is a \`${symbol.getName()}\`, which is not a plain JSON value`);
      }
    }
    return this.#object(type, site, path, fail);
  }

  #object(type: ts.Type, site: ConvertSite, path: string, fail: (why: string) => Error): TypeNode {
    const checker = this.#checker;
    const isClass = (type.getSymbol()?.flags ?? 0) & ts.SymbolFlags.Class;
    const properties: PropertyNode[] = [];
    for (const prop of checker.getPropertiesOfType(type)) {
      const name = prop.getName();
      if (name.startsWith("__@"))
        throw fail(`has a symbol-keyed property, which is not a JSON value`);
      if (prop.flags & (ts.SymbolFlags.Method | ts.SymbolFlags.Accessor) && isClass) {
        throw fail(
          `is an instance of class \`${type.getSymbol()!.getName()}\`, whose methods do not survive JSON`,
        );
      }
      if (prop.flags & ts.SymbolFlags.Method)
        throw fail(`has a method \`${name}\`, which cannot be sent in a message`);
      const optional = (prop.flags & ts.SymbolFlags.Optional) !== 0;
      let node = this.convert(checker.getTypeOfSymbol(prop), site, `${path}.${name}`);
      if (optional) node = withoutUndefined(node);
      const declaration = prop.valueDeclaration;
      const readonly =
        declaration !== undefined &&
        (ts.getCombinedModifierFlags(declaration) & ts.ModifierFlags.Readonly) !== 0;
      const doc = ts.displayPartsToString(prop.getDocumentationComment(checker)).trim();
      properties.push({ name, type: node, optional, readonly, ...(doc ? { doc } : {}) });
    }
    const index = checker
      .getIndexInfosOfType(type)
      .find((info) => !(info.keyType.flags & F.ESSymbolLike));
    const indexNode = index ? this.convert(index.type, site, `${path}[string]`) : undefined;
    if (properties.length === 0 && indexNode) return { kind: "record", value: indexNode };
    return { kind: "object", properties, ...(indexNode ? { index: indexNode } : {}) };
  }

  #tuple(type: ts.TupleTypeReference, site: ConvertSite, path: string): TypeNode {
    const args = this.#checker.getTypeArguments(type);
    const flags = type.target.elementFlags;
    const elements: { type: TypeNode; optional: boolean }[] = [];
    let rest: TypeNode | undefined;
    args.forEach((arg, i) => {
      const flag = flags[i] ?? ts.ElementFlags.Required;
      const node = this.convert(arg, site, `${path}[${i}]`);
      if (flag & ts.ElementFlags.Variable) rest = node;
      else
        elements.push({
          type: flag & ts.ElementFlags.Optional ? withoutUndefined(node) : node,
          optional: (flag & ts.ElementFlags.Optional) !== 0,
        });
    });
    return { kind: "tuple", elements, ...(rest ? { rest } : {}) };
  }

  /** A name, doc and source for a type that gets its own declaration, or `undefined`. */
  #namedInfo(type: ts.Type): { name: string; doc: string; source: SourceLocation } | undefined {
    const alias = type.aliasSymbol;
    if (alias && !this.#fromLib(alias)) {
      return this.#info(alias, alias.getName(), type.aliasTypeArguments ?? []);
    }
    const symbol = type.getSymbol();
    if (!symbol || this.#fromLib(symbol)) return undefined;
    if (!(symbol.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.Class))) return undefined;
    if (this.#checker.isArrayType(type) || this.#checker.isTupleType(type)) return undefined;
    let args: readonly ts.Type[] = [];
    if (objectFlags(type) & ts.ObjectFlags.Reference) {
      const ref = type as ts.TypeReference;
      const declared = (ref.target as ts.InterfaceType).typeParameters?.length ?? 0;
      args = this.#checker.getTypeArguments(ref).slice(0, declared);
    }
    return this.#info(symbol, symbol.getName(), args);
  }

  #info(
    symbol: ts.Symbol,
    base: string,
    args: readonly ts.Type[],
  ): { name: string; doc: string; source: SourceLocation } {
    const declaration = symbol.declarations?.[0];
    const doc = ts.displayPartsToString(symbol.getDocumentationComment(this.#checker)).trim();
    const name = base + args.map((a) => this.#fragment(a)).join("");
    const source = declaration
      ? locate(this.#options.root, declaration)
      : { file: "", line: 0, column: 0 };
    return { name, doc, source };
  }

  /** A readable name part for a generic argument: `Page<User>` becomes `PageUser`. */
  #fragment(type: ts.Type): string {
    const f = type.flags;
    if (f & F.String) return "String";
    if (f & F.Number) return "Number";
    if (f & F.Boolean) return "Boolean";
    if (f & F.StringLiteral) {
      const text = (type as ts.StringLiteralType).value.replace(/[^A-Za-z0-9]/g, "");
      return text.charAt(0).toUpperCase() + text.slice(1);
    }
    if (this.#checker.isArrayType(type)) {
      const [element] = this.#checker.getTypeArguments(type as ts.TypeReference);
      return `${element ? this.#fragment(element) : ""}List`;
    }
    const symbol = type.aliasSymbol ?? type.getSymbol();
    if (symbol && /^[A-Za-z_$][\w$]*$/.test(symbol.getName())) {
      const n = symbol.getName();
      return n.charAt(0).toUpperCase() + n.slice(1);
    }
    return "T";
  }

  #enum(symbol: ts.Symbol, fail: (why: string) => Error): string {
    const existing = this.#enumsBySymbol.get(symbol);
    if (existing !== undefined) return existing;
    const name = this.#options.names.allocate(symbol.getName());
    this.#enumsBySymbol.set(symbol, name);
    const members: { name: string; value: string | number }[] = [];
    for (const declaration of symbol.declarations ?? []) {
      if (!ts.isEnumDeclaration(declaration)) continue;
      for (const member of declaration.members) {
        const value = this.#checker.getConstantValue(member);
        if (value === undefined)
          throw fail(`uses enum member \`${member.name.getText()}\` whose value is computed`);
        members.push({ name: member.name.getText().replace(/^["']|["']$/g, ""), value });
      }
    }
    const info = this.#info(symbol, symbol.getName(), []);
    this.#declarations.push({
      kind: "enum",
      name,
      members,
      ...(info.doc ? { doc: info.doc } : {}),
      source: info.source,
    });
    return name;
  }

  #enumMember(member: ts.Symbol, site: ConvertSite, fail: (why: string) => Error): TypeNode {
    const declaration = member.valueDeclaration;
    if (!declaration || !ts.isEnumMember(declaration))
      throw fail("is an enum member repid-gen cannot locate");
    const enumSymbol = this.#checker.getSymbolAtLocation(declaration.parent.name);
    if (!enumSymbol) throw fail("is an enum member repid-gen cannot locate");
    void site;
    const enumName = this.#enum(enumSymbol, fail);
    return { kind: "enum-member", enumName, member: member.getName() };
  }

  #fromLib(symbol: ts.Symbol): boolean {
    const declaration = symbol.declarations?.[0];
    if (!declaration) return true;
    const file = declaration.getSourceFile();
    return (
      this.#program.isSourceFileDefaultLibrary(file) ||
      /[\\/]node_modules[\\/]@types[\\/]node[\\/]/.test(file.fileName)
    );
  }
}

/** Drops `undefined` from a union: an optional property already says it may be absent. */
export function withoutUndefined(node: TypeNode): TypeNode {
  if (node.kind !== "union") return node;
  const members = node.members.filter((m) => m.kind !== "undefined");
  if (members.length === node.members.length) return node;
  return members.length === 1 ? members[0]! : { kind: "union", members };
}

const RANK: Record<TypeNode["kind"], number> = {
  string: 0,
  number: 1,
  boolean: 2,
  literal: 3,
  "enum-member": 4,
  date: 5,
  ref: 6,
  array: 7,
  tuple: 8,
  object: 9,
  record: 10,
  intersection: 11,
  union: 12,
  unknown: 13,
  any: 14,
  never: 15,
  null: 16,
  undefined: 17,
  void: 18,
};

/** A total order on type nodes, so unions print the same whatever the checker met first. */
export function compareTypeNodes(a: TypeNode, b: TypeNode): number {
  const byKind = RANK[a.kind] - RANK[b.kind];
  if (byKind !== 0) return byKind;
  const ka = JSON.stringify(a);
  const kb = JSON.stringify(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
