import type { TypeNode } from "../codegen/model.js";

/** How to print references to named schemas. */
export interface SchemaTextContext {
  /** The const holding a named type's schema. */
  readonly schemaName: (name: string) => string;
  /** True when the referenced schema is not defined yet here (recursion): wrap it in `z.lazy`. */
  readonly isLazy: (name: string) => boolean;
}

/** The zod schema expression of a type. */
export function schemaText(type: TypeNode, ctx: SchemaTextContext): string {
  switch (type.kind) {
    case "string":
      return "z.string()";
    case "number":
      return "z.number()";
    case "boolean":
      return "z.boolean()";
    case "null":
      return "z.null()";
    case "undefined":
      return "z.undefined()";
    case "void":
      return "z.void()";
    case "unknown":
      return "z.json()";
    case "any":
      return "z.any()";
    case "never":
      return "z.never()";
    case "date":
      return "dateSchema";
    case "literal":
      return `z.literal(${JSON.stringify(type.value)})`;
    case "enum-member":
      return `z.literal(${type.enumName}[${JSON.stringify(type.member)}])`;
    case "ref": {
      const name = ctx.schemaName(type.name);
      return ctx.isLazy(type.name) ? `z.lazy(() => ${name})` : name;
    }
    case "array":
      return `z.array(${schemaText(type.element, ctx)})`;
    case "tuple": {
      const items = type.elements.map(
        (e) => `${schemaText(e.type, ctx)}${e.optional ? ".optional()" : ""}`,
      );
      const rest = type.rest ? `, ${schemaText(type.rest, ctx)}` : "";
      return `z.tuple([${items.join(", ")}]${rest})`;
    }
    case "object": {
      const shape = type.properties.map((p) => {
        // A required key whose value may be undefined must stay required: no `.optional()`.
        const value =
          !p.optional &&
          p.type.kind === "union" &&
          p.type.members.some((m) => m.kind === "undefined")
            ? `z.union([${schemaText({ ...p.type, members: p.type.members.filter((m) => m.kind !== "undefined") }, ctx)}, z.undefined()])`
            : schemaText(p.type, ctx);
        return `${keyText(p.name)}: ${value}${p.optional ? ".optional()" : ""},`;
      });
      const base = `z.object({\n${shape.join("\n")}\n})`;
      return type.index ? `${base}.catchall(${schemaText(type.index, ctx)})` : base;
    }
    case "record":
      return `z.record(z.string(), ${schemaText(type.value, ctx)})`;
    case "union":
      return unionText(type.members, ctx);
    case "intersection":
      return type.members
        .map((m) => schemaText(m, ctx))
        .reduce((acc, next) => `z.intersection(${acc}, ${next})`);
  }
}

function keyText(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : JSON.stringify(name);
}

function unionText(members: readonly TypeNode[], ctx: SchemaTextContext): string {
  const hasUndefined = members.some((m) => m.kind === "undefined");
  const hasNull = members.some((m) => m.kind === "null");
  const rest = members.filter((m) => m.kind !== "undefined" && m.kind !== "null");
  if (rest.length === 0)
    return hasNull && hasUndefined ? "z.null().optional()" : hasNull ? "z.null()" : "z.undefined()";
  let text: string;
  if (rest.length === 1) {
    text = schemaText(rest[0]!, ctx);
  } else if (rest.every((m) => m.kind === "literal" && typeof m.value === "string")) {
    text = `z.enum([${rest.map((m) => JSON.stringify((m as { value: string }).value)).join(", ")}])`;
  } else {
    text = `z.union([${rest.map((m) => schemaText(m, ctx)).join(", ")}])`;
  }
  if (hasNull) text += ".nullable()";
  if (hasUndefined) text += ".optional()";
  return text;
}
