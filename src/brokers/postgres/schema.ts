/**
 * Creates and migrates the broker's schema: the migrations of ./migrations.ts not yet recorded
 * in `<schema>.migrations` are applied in order, in one transaction taken under an advisory lock
 * of the schema, so several workers starting at once apply each migration exactly once (the
 * others wait, then find nothing left to do).
 */
import { InvalidOptionError } from "../../core/errors.js";
import { MIGRATIONS } from "./migrations.js";

/** What migrating needs of a connection: `pg.Client`, `pg.PoolClient`. */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

/** Schema names are plain lowercase identifiers, short enough for their notification channels. */
export function checkSchema(schema: string): string {
  if (!/^[a-z_][a-z0-9_]{0,47}$/.test(schema)) {
    throw new InvalidOptionError(
      "schema",
      `"${schema}" is not a lowercase identifier of at most 48 characters (letters, digits, _)`,
    );
  }
  return schema;
}

/** The newest schema version this code knows. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/**
 * Brings `schema` to `SCHEMA_VERSION` on `client` (which must not be inside a transaction).
 * Returns the versions it applied (empty when the schema was current).
 */
export async function migrate(client: Queryable, schema: string): Promise<number[]> {
  const s = checkSchema(schema);
  const applied: number[] = [];
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [`repid:${s}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${s}.migrations (
         version integer PRIMARY KEY,
         name text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const { rows } = await client.query(`SELECT version FROM ${s}.migrations`);
    const done = new Set(rows.map((r) => Number(r.version)));
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      await client.query(m.sql(s));
      await client.query(`INSERT INTO ${s}.migrations (version, name) VALUES ($1, $2)`, [
        m.version,
        m.name,
      ]);
      applied.push(m.version);
    }
    await client.query("COMMIT");
    return applied;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
}
