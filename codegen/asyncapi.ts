/**
 * An AsyncAPI 3.0 document of the registry (`repid-gen --asyncapi <file>`): one channel per
 * queue, one message per actor whose payload is the JSON Schema of the actor's arguments, one
 * `send` operation per actor, and the named types as component schemas. A pure function of the
 * model, like the templates; the document is written as JSON, which is also valid YAML.
 */
import type { GenModel, NamedType, TypeNode } from "./model.js";

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });

/** The JSON Schema of what travels on the wire (JSON) for one type of the model. */
export function jsonSchemaOf(type: TypeNode): Schema {
  switch (type.kind) {
    case "string":
      return { type: "string" };
    case "number":
      return { type: "number" };
    case "boolean":
      return { type: "boolean" };
    case "null":
    case "undefined":
    case "void":
      return { type: "null" };
    case "unknown":
    case "any":
      return {};
    case "never":
      return { not: {} };
    case "date":
      return { type: "string", format: "date-time" };
    case "literal":
      return { const: type.value };
    case "enum-member":
      return ref(type.enumName);
    case "array":
      return { type: "array", items: jsonSchemaOf(type.element) };
    case "tuple": {
      const rest = type.elements.findIndex((e) => e.kind === "rest");
      if (rest >= 0 && rest !== type.elements.length - 1) {
        // A rest that is not last cannot be said element by element: any of the element types.
        return { type: "array", items: { anyOf: type.elements.map((e) => jsonSchemaOf(e.type)) } };
      }
      // Draft-07 tuples (AsyncAPI's schema format): `items` as a list, `additionalItems` after.
      const fixed = type.elements.filter((e) => e.kind !== "rest");
      return {
        type: "array",
        items: fixed.map((e) => jsonSchemaOf(e.type)),
        additionalItems: rest >= 0 ? jsonSchemaOf(type.elements[rest]!.type) : false,
        minItems: fixed.filter((e) => e.kind === "required").length,
      };
    }
    case "template":
      return { type: "string", pattern: templatePattern(type.parts) };
    case "branded":
      return jsonSchemaOf(type.base);
    case "object": {
      const properties: Record<string, Schema> = {};
      const required: string[] = [];
      for (const p of type.properties) {
        // Defined, not assigned: a `__proto__` key would set the prototype.
        Object.defineProperty(properties, p.name, {
          value: p.doc ? { ...jsonSchemaOf(p.type), description: p.doc } : jsonSchemaOf(p.type),
          enumerable: true,
          writable: true,
          configurable: true,
        });
        if (!p.optional && !acceptsMissing(p.type)) required.push(p.name);
      }
      const schema: Schema = { type: "object", properties };
      if (required.length > 0) schema.required = required;
      if (type.patterns) {
        const patternProperties: Record<string, Schema> = {};
        for (const p of type.patterns) {
          const pattern =
            p.key.kind === "template" ? templatePattern(p.key.parts) : NUMERIC_KEY_PATTERN;
          patternProperties[pattern] = jsonSchemaOf(p.value);
        }
        schema.patternProperties = patternProperties;
      }
      schema.additionalProperties = type.index ? jsonSchemaOf(type.index) : false;
      return schema;
    }
    case "record":
      return { type: "object", additionalProperties: jsonSchemaOf(type.value) };
    case "union":
      return { anyOf: type.members.map(jsonSchemaOf) };
    case "intersection":
      return { allOf: type.members.map(jsonSchemaOf) };
    case "ref":
      return ref(type.name);
  }
}

/** The keys a numeric index signature takes: numbers as JavaScript writes them. */
const NUMERIC_KEY_PATTERN = "^(-?(0|[1-9]\\d*)(\\.\\d+)?(e[+-]\\d+)?|NaN|-?Infinity)$";

/** A required key whose type admits `undefined` may be missing on the wire. */
function acceptsMissing(type: TypeNode): boolean {
  if (type.kind === "undefined" || type.kind === "void") return true;
  return type.kind === "union" && type.members.some(acceptsMissing);
}

function templatePattern(parts: readonly (string | TypeNode)[]): string {
  const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  const body = parts
    .map((p) => {
      if (typeof p === "string") return escape(p);
      if (p.kind === "number") return "-?\\d+(\\.\\d+)?";
      if (p.kind === "literal") return escape(String(p.value));
      return ".*";
    })
    .join("");
  return `^${body}$`;
}

function namedSchema(named: NamedType): Schema {
  if (named.kind === "enum") {
    const schema: Schema = { enum: named.members.map((m) => m.value) };
    return named.doc ? { ...schema, description: named.doc } : schema;
  }
  const schema = jsonSchemaOf(named.type);
  return named.doc ? { ...schema, description: named.doc } : schema;
}

export interface AsyncApiInfo {
  /** @defaultValue "repid registry" */
  readonly title?: string;
  /** @defaultValue "1.0.0" */
  readonly version?: string;
}

/** The AsyncAPI 3.0 document of the model, as a plain object (deterministic key order). */
export function asyncApiDocument(model: GenModel, info: AsyncApiInfo = {}): Schema {
  const channels: Record<string, Schema> = {};
  const operations: Record<string, Schema> = {};
  const messages: Record<string, Schema> = {};
  const queues = [...new Set(model.actors.map((a) => a.queue))].sort();
  for (const queue of queues) {
    const actors = model.actors.filter((a) => a.queue === queue);
    channels[queue] = {
      address: queue,
      description: `The repid queue "${queue}".`,
      messages: Object.fromEntries(
        actors.map((a) => [a.name, { $ref: `#/components/messages/${a.name}` }]),
      ),
    };
    for (const actor of actors) {
      operations[actor.name] = {
        action: "send",
        channel: { $ref: `#/channels/${queue}` },
        messages: [{ $ref: `#/channels/${queue}/messages/${actor.name}` }],
        ...(actor.doc ? { summary: actor.doc } : {}),
      };
    }
  }
  for (const actor of model.actors) {
    messages[actor.name] = {
      name: actor.name,
      title: actor.name,
      contentType: "application/json",
      ...(actor.doc ? { summary: actor.doc } : {}),
      payload: actor.args ? jsonSchemaOf(actor.args) : { type: "null" },
      "x-repid-result": jsonSchemaOf(actor.result),
    };
  }
  const schemas = Object.fromEntries(model.types.map((t) => [t.name, namedSchema(t)]));
  return {
    asyncapi: "3.0.0",
    info: {
      title: info.title ?? "repid registry",
      version: info.version ?? "1.0.0",
      description: `Generated by ${model.command}: one channel per queue, one message per actor.`,
    },
    defaultContentType: "application/json",
    channels,
    operations,
    components: { schemas, messages },
  };
}
