/**
 * `repid migrate --postgres <url>`: creates or migrates the Postgres broker's schema and exits,
 * for teams that run migrations in their deploy step (workers then start with `migrate: false`).
 * The same migrations, under the same advisory lock, as a broker's `connect()`.
 */
import { PeerDependencyError, InvalidOptionError } from "../core/errors.js";
import { ExitCode } from "./exit-codes.js";
import { json } from "./output.js";
import type { CliSession } from "./session.js";

export async function migrateCommand(
  session: CliSession,
  options: { readonly postgres?: unknown; readonly schema?: unknown; readonly json?: boolean },
): Promise<number> {
  const url = typeof options.postgres === "string" ? options.postgres : session.env.POSTGRES_URL;
  if (!url) {
    throw new InvalidOptionError(
      "postgres",
      "no database: pass --postgres <url> or set POSTGRES_URL",
    );
  }
  const schemaName = typeof options.schema === "string" ? options.schema : "repid";
  const pg = await import("pg").catch((error: unknown) => {
    throw new PeerDependencyError(
      "pg",
      `the Postgres broker needs pg: npm install pg (${(error as Error).message})`,
    );
  });
  const { migrate, SCHEMA_VERSION, checkSchema } = await import("../brokers/postgres/schema.js");
  const { wrapPg } = await import("../brokers/postgres/pg-errors.js");
  const schema = checkSchema(schemaName);
  const client = new pg.default.Client({ connectionString: url });
  client.on("error", () => {});
  const applied = await wrapPg("migrating", async () => {
    await client.connect();
    try {
      return await migrate(client, schema);
    } finally {
      await client.end().catch(() => {});
    }
  });
  if (options.json) session.stdout.write(json({ schema, version: SCHEMA_VERSION, applied }));
  else if (applied.length === 0)
    session.stdout.write(`schema "${schema}" is current (version ${SCHEMA_VERSION})\n`);
  else
    session.stdout.write(
      `schema "${schema}" migrated to version ${SCHEMA_VERSION} (applied ${applied.join(", ")})\n`,
    );
  return ExitCode.OK;
}
