/**
 * An actor's limits (`concurrency`, `rateLimit`) as fields of its registry entry. A `key` is
 * checked against the actor's generated argument type with `satisfies repid.KeyPath<...>`, so a
 * path that does not reach a string or a number fails to compile here as in the actor's file.
 */
import type { ActorModel } from "../codegen/model.js";

/** The registry entry's limit fields of `actor`, one per line; none when it declares none. */
export function limitFields(actor: ActorModel): string[] {
  const fields: string[] = [];
  const { concurrency, rateLimit } = actor;
  if (typeof concurrency === "number") fields.push(`concurrency: ${concurrency},`);
  else if (concurrency)
    fields.push(`concurrency: { limit: ${concurrency.limit}${keyText(actor, concurrency.key)} },`);
  if (rateLimit) {
    const per = JSON.stringify(rateLimit.per);
    fields.push(
      `rateLimit: { limit: ${rateLimit.limit}, per: ${per}${keyText(actor, rateLimit.key)} },`,
    );
  }
  return fields;
}

/** `, key: "..."`, typed by the arguments the actor receives (the type its file checks keys on). */
function keyText(actor: ActorModel, key: string | undefined): string {
  if (key === undefined) return "";
  const args = actor.names.parsedArgs ?? actor.names.args;
  const typed = args === undefined ? "" : ` satisfies repid.KeyPath<${args}>`;
  return `, key: ${JSON.stringify(key)}${typed}`;
}
