import { ts } from "ts-morph";
import type { CodegenError } from "repid";
import {
  renameRefs,
  type CodegenWarning,
  type NamedType,
  type TupleElement,
  type TypeNode,
} from "../model.js";
import { arrayInterface } from "./array-interface.js";
import type { ConvertContext, ConvertSite, Fail } from "./convert-context.js";
import { errorAt, locate, posixRelative } from "./location.js";
import type { NameAllocator } from "./names.js";
import { isDataInterface } from "./lib-data.js";
import { declarationInfo, namedInfo, type NamedInfo } from "./named-info.js";
import { convertObject, isSymbolKeyed } from "./object-type.js";
import { stableNames, type NameRequest } from "./stable-names.js";
import { compareTypeNodes, withoutUndefined } from "./type-order.js";
import { unresolvedReason } from "./unresolved.js";

export interface TypeConverterOptions {
  readonly root: string;
  readonly allowAny: boolean;
}

const F = ts.TypeFlags;

/**
 * Turns checker types into the model's type IR. Named types (interfaces, aliases, enums, and
 * generic instantiations) are collected once each, in dependency order; anything that is not a
 * JSON value is recorded in `errors` at its own place, and conversion goes on.
 */
export class TypeConverter {
  readonly #checker: ts.TypeChecker;
  readonly #program: ts.Program;
  readonly #options: TypeConverterOptions;
  readonly #namedByType = new Map<ts.Type, string>();
  readonly #enumsBySymbol = new Map<ts.Symbol, string>();
  readonly #declarations: NamedType[] = [];
  readonly #requests: NameRequest[] = [];
  readonly #context: ConvertContext;
  /** Every problem found, each at its own place: a run reports them all at once. */
  readonly errors: CodegenError[] = [];
  readonly warnings: CodegenWarning[] = [];

  constructor(program: ts.Program, options: TypeConverterOptions) {
    this.#program = program;
    this.#checker = program.getTypeChecker();
    this.#options = options;
    this.#context = {
      checker: this.#checker,
      convert: (type, site, path) => this.convert(type, site, path),
      template: (type, site, path, fail) => this.#template(type, site, path, fail),
      siteOf: (declaration, site) => this.#siteOf(declaration, site),
      report: (location, message) => this.errors.push(errorAt(location, message)),
    };
  }

  #objectOf(type: ts.Type, site: ConvertSite, path: string, fail: Fail): TypeNode {
    return convertObject(this.#context, type, site, path, fail);
  }

  /**
   * Gives every named type met so far its final name (see `stableNames`) and returns them, each
   * after the ones it needs (cycles aside), with `rename` to apply to the other types.
   */
  finish(allocator: NameAllocator): {
    types: NamedType[];
    rename: (type: TypeNode) => TypeNode;
  } {
    const names = stableNames(this.#requests, allocator);
    const name = (key: string) => names.get(key) ?? key;
    const rename = (type: TypeNode) => renameRefs(type, name);
    const types = this.#declarations.map((t) =>
      t.kind === "enum"
        ? { ...t, name: name(t.name) }
        : { ...t, name: name(t.name), type: rename(t.type) },
    );
    return { types, rename };
  }

  /** Converts `type`, naming `path` (like `args.user`) in errors. Never throws: see `errors`. */
  convert(type: ts.Type, site: ConvertSite, path: string): TypeNode {
    const f = type.flags;
    const fail = (why: string): TypeNode => {
      this.errors.push(errorAt(site.location, `actor "${site.actor}": ${path} ${why}`));
      return { kind: "unknown" };
    };
    if (f & F.Any) {
      if ((type as { intrinsicName?: string }).intrinsicName === "error")
        return fail(unresolvedReason(this.#program, this.#options.root, site.typeNode));
      if (!this.#options.allowAny)
        return fail("is `any`, which cannot be validated; give it a type, or pass --allow-any");
      this.warnings.push({
        location: site.location,
        message: `actor "${site.actor}": ${path} is \`any\`: accepted unchecked (z.any()) because of --allow-any`,
      });
      return { kind: "any" };
    }
    if (f & F.Unknown) return { kind: "unknown" };
    if (f & F.Never) return { kind: "never" };
    if (f & (F.BigInt | F.BigIntLiteral)) return fail("is a bigint, which is not a JSON value");
    if (f & (F.ESSymbol | F.UniqueESSymbol)) return fail("is a symbol, which is not a JSON value");
    if (f & F.TypeParameter)
      return fail("is a generic type parameter; actors must have concrete types");
    if (f & F.TemplateLiteral)
      return this.#template(type as ts.TemplateLiteralType, site, path, fail);
    if (f & F.StringMapping)
      return fail(
        `is \`${this.#checker.typeToString(type)}\`, a string mapping with no run-time check; use a template literal or \`string\``,
      );
    if (f & F.NonPrimitive) return fail("is `object`; describe its properties");
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
      return this.#enumMember(type.symbol, fail);
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

    const named = namedInfo(type, this.#checker, this.#options.root, (x) => this.#fromLib(x));
    if (named) {
      const existing = this.#namedByType.get(type);
      if (existing !== undefined) return { kind: "ref", name: existing };
      const key = this.#request(named, type);
      this.#namedByType.set(type, key);
      const body = this.#structure(type, site, path, fail);
      this.#declarations.push({
        kind: "alias",
        name: key,
        type: body,
        ...(named.doc ? { doc: named.doc } : {}),
        source: named.source,
      });
      return { kind: "ref", name: key };
    }
    return this.#structure(type, site, path, fail);
  }

  #request(named: NamedInfo, type: ts.Type | undefined): string {
    const key = `\u0000${this.#requests.length}`;
    const tiebreak = () =>
      type
        ? this.#checker.typeToString(type, undefined, ts.TypeFormatFlags.UseFullyQualifiedType)
        : named.name;
    this.#requests.push({ key, base: named.name, segments: named.segments, tiebreak });
    return key;
  }

  #structure(type: ts.Type, site: ConvertSite, path: string, fail: Fail): TypeNode {
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
    if (type.isIntersection()) return this.#intersection(type, site, path, fail);
    if (!(type.flags & F.Object))
      return fail(`has type \`${checker.typeToString(type)}\`, which is not supported`);
    if (checker.getSignaturesOfType(type, ts.SignatureKind.Call).length > 0) {
      return fail("is a function, which cannot be sent in a message");
    }
    if (checker.getSignaturesOfType(type, ts.SignatureKind.Construct).length > 0) {
      return fail("is a class constructor, which cannot be sent in a message");
    }
    const symbol = type.getSymbol();
    if (symbol?.getName() === "Date" && this.#fromLib(symbol)) return { kind: "date" };
    if (checker.isArrayType(type)) {
      const ref = type as ts.TypeReference;
      const [element] = checker.getTypeArguments(ref);
      const node = this.#element(element!, site, `${path}[]`);
      const readonly = ref.target.symbol?.getName() === "ReadonlyArray";
      return { kind: "array", element: node, ...(readonly ? { readonly } : {}) };
    }
    const arrayLike = arrayInterface(type, checker);
    if (arrayLike) {
      const element = this.#element(arrayLike.element, site, `${path}[]`);
      return { kind: "array", element, ...(arrayLike.readonly ? { readonly: true } : {}) };
    }
    if (checker.isTupleType(type))
      return this.#tuple(type as ts.TupleTypeReference, site, path, fail);
    if (checker.isArrayLikeType(type))
      return fail(
        `is \`${checker.typeToString(type)}\`, an array with members of its own, which JSON does not carry; extend Array without adding members, or use an object`,
      );
    if (
      symbol &&
      this.#fromLib(symbol) &&
      !(symbol.flags & ts.SymbolFlags.TypeLiteral) &&
      !isDataInterface(type, checker)
    ) {
      if (symbol.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.Class)) {
        return fail(`is a \`${symbol.getName()}\`, which is not a plain JSON value`);
      }
    }
    return this.#objectOf(type, site, path, fail);
  }

  /** Objects intersect as objects; a primitive and objects form a brand. */
  #intersection(type: ts.IntersectionType, site: ConvertSite, path: string, fail: Fail): TypeNode {
    const primitive = F.String | F.Number | F.Boolean | F.StringLiteral | F.NumberLiteral;
    const bases = type.types.filter((t) => t.flags & primitive);
    const objects = type.types.filter((t) => !(t.flags & primitive));
    if (bases.length === 1 && objects.every((t) => t.flags & F.Object)) {
      const base = this.convert(bases[0]!, site, path);
      const brands: TypeNode[] = [];
      for (const o of objects) {
        if (this.#checker.getPropertiesOfType(o).some(isSymbolKeyed))
          return fail(
            "is branded with a unique symbol, which the generated file cannot name; brand with a string key such as `__brand`",
          );
        brands.push(this.#objectOf(o, site, path, fail));
      }
      const brand: TypeNode =
        brands.length === 1 ? brands[0]! : { kind: "intersection", members: brands };
      return { kind: "branded", base, brand };
    }
    const members = type.types.map((m) => this.convert(m, site, path));
    if (members.some((m) => m.kind !== "object" && m.kind !== "ref" && m.kind !== "record")) {
      return fail("is an intersection of types that are not all objects, which is not supported");
    }
    return { kind: "intersection", members };
  }

  /** An array or tuple element: `null` and `undefined` together would read alike after JSON. */
  #element(type: ts.Type, site: ConvertSite, path: string): TypeNode {
    const node = this.convert(type, site, path);
    if (
      node.kind === "union" &&
      node.members.some((m) => m.kind === "null") &&
      node.members.some((m) => m.kind === "undefined")
    ) {
      this.errors.push(
        errorAt(
          site.location,
          `actor "${site.actor}": ${path} may be both \`null\` and \`undefined\`: JSON writes \`undefined\` in an array as \`null\`, so the actor could not tell them apart; use one of them`,
        ),
      );
      return { kind: "unknown" };
    }
    return node;
  }

  #template(type: ts.TemplateLiteralType, site: ConvertSite, path: string, fail: Fail): TypeNode {
    const parts: (string | TypeNode)[] = [];
    type.texts.forEach((text, i) => {
      if (text !== "") parts.push(text);
      const t = type.types[i];
      if (!t) return;
      const node = this.convert(t, site, path);
      const ok = (n: TypeNode): boolean =>
        ["string", "number", "boolean", "literal", "null", "undefined", "template"].includes(
          n.kind,
        ) ||
        (n.kind === "union" && n.members.every(ok));
      parts.push(ok(node) ? node : fail("has a template literal part that is not a primitive"));
    });
    return { kind: "template", parts };
  }

  /** The site of a property: its own declaration when it is in the user's code. */
  #siteOf(declaration: ts.Declaration | undefined, site: ConvertSite): ConvertSite {
    if (!declaration || this.#isExternal(declaration.getSourceFile())) return site;
    const typeNode = (declaration as { type?: ts.TypeNode }).type;
    return { ...site, location: locate(this.#options.root, declaration), typeNode };
  }

  #tuple(type: ts.TupleTypeReference, site: ConvertSite, path: string, fail: Fail): TypeNode {
    const args = this.#checker.getTypeArguments(type);
    const flags = type.target.elementFlags;
    const elements: TupleElement[] = args.map((arg, i) => {
      const flag = flags[i] ?? ts.ElementFlags.Required;
      if (flag & ts.ElementFlags.Variable) {
        const node = this.#element(arg, site, `${path}[${i}]`);
        // A variadic element of an array type (`...T[]`) comes as the array: keep its element.
        const rest = flag & ts.ElementFlags.Variadic && node.kind === "array" ? node.element : node;
        return { type: rest, kind: "rest" };
      }
      const node = this.#element(arg, site, `${path}[${i}]`);
      return flag & ts.ElementFlags.Optional
        ? { type: withoutUndefined(node), kind: "optional" }
        : { type: node, kind: "required" };
    });
    const readonly = type.target.readonly;
    return { kind: "tuple", elements, ...(readonly ? { readonly } : {}) };
  }

  #enum(symbol: ts.Symbol, fail: Fail): string {
    const existing = this.#enumsBySymbol.get(symbol);
    if (existing !== undefined) return existing;
    const info = declarationInfo(symbol, symbol.getName(), [], this.#checker, this.#options.root);
    const name = this.#request(info, undefined);
    this.#enumsBySymbol.set(symbol, name);
    const members: { name: string; value: string | number }[] = [];
    for (const declaration of symbol.declarations ?? []) {
      if (!ts.isEnumDeclaration(declaration)) continue;
      for (const member of declaration.members) {
        const value = this.#checker.getConstantValue(member);
        if (value === undefined) {
          fail(`uses enum member \`${member.name.getText()}\` whose value is computed`);
          continue;
        }
        members.push({ name: member.name.getText().replace(/^["']|["']$/g, ""), value });
      }
    }
    this.#declarations.push({
      kind: "enum",
      name,
      members,
      ...(info.doc ? { doc: info.doc } : {}),
      source: info.source,
    });
    return name;
  }

  #enumMember(member: ts.Symbol, fail: Fail): TypeNode {
    const declaration = member.valueDeclaration;
    if (!declaration || !ts.isEnumMember(declaration))
      return fail("is an enum member repid-gen cannot locate");
    const enumSymbol = this.#checker.getSymbolAtLocation(declaration.parent.name);
    if (!enumSymbol) return fail("is an enum member repid-gen cannot locate");
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

  #isExternal(file: ts.SourceFile): boolean {
    return (
      this.#program.isSourceFileDefaultLibrary(file) ||
      /[\\/]node_modules[\\/]/.test(posixRelative(this.#options.root, file.fileName))
    );
  }
}
