/** Naming rules shared by the scanner: actor properties, type stems and unique type names. */

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** True when `text` can be written as a bare identifier. */
export function isIdentifier(text: string): boolean {
  return IDENTIFIER.test(text);
}

function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w !== "");
}

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1).toLowerCase();
}

/**
 * The client property of an actor name: `send_email`, `send-email` and `SendEmail` all give
 * `sendEmail`. Returns `undefined` when no identifier can be made (for example `"42"`).
 */
export function camelCase(name: string): string | undefined {
  const parts = words(name);
  if (parts.length === 0) return undefined;
  const [first, ...rest] = parts;
  const result = first!.toLowerCase() + rest.map(capitalize).join("");
  return isIdentifier(result) ? result : undefined;
}

/** `sendEmail` -> `SendEmail`: the stem of an actor's exported type names. */
export function pascalCase(property: string): string {
  return property.charAt(0).toUpperCase() + property.slice(1);
}

/** Names that the generated module itself uses at its top level. */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  "repid",
  "z",
  "registry",
  "defineActors",
  "jobs",
  "createJobs",
  "Jobs",
  "ActorName",
  "ActorArgs",
  "ActorParsedArgs",
  "ActorResult",
  "dateSchema",
  "jsonSchema",
  "restTuple",
  "objectSchema",
  "JsonInput",
  "zodVersion",
  "zod",
  "IsZod4",
  "Zod4Schema",
  "Same",
  "Keys",
  "Accepts",
  "Expect",
]);

/**
 * Hands out unique names: the first asker of `User` gets `User`, the next `User2`. Callers ask in
 * a deterministic order, so the same sources always give the same names.
 */
export class NameAllocator {
  readonly #used: Set<string>;

  constructor(reserved: Iterable<string> = RESERVED_NAMES) {
    this.#used = new Set(reserved);
  }

  /**
   * Marks `name` and its schema name `${name}Schema` taken and returns it, or the first free
   * `name2`, `name3`, ...
   */
  allocate(wanted: string): string {
    const free = (c: string) => !this.#used.has(c) && !this.#used.has(`${c}Schema`);
    let candidate = wanted;
    for (let n = 2; !free(candidate); n++) candidate = `${wanted}${n}`;
    this.#used.add(candidate);
    this.#used.add(`${candidate}Schema`);
    return candidate;
  }

  has(name: string): boolean {
    return this.#used.has(name);
  }
}
