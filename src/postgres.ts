/**
 * `repid/postgres`: the PostgreSQL broker. Only this entry point loads `pg` (node-postgres, an
 * optional peer dependency of repid: `npm install pg`), so apps on other brokers never need it.
 * @example
 * import { Connection, Repid } from "repid";
 * import { PostgresMessageBroker } from "repid/postgres";
 * const app = new Repid(new Connection(new PostgresMessageBroker("postgres://app@127.0.0.1/app")));
 */
export { PostgresMessageBroker } from "./brokers/postgres/postgres-broker.js";
export type { PostgresBrokerOptions } from "./brokers/postgres/options.js";
export { PostgresBrokerError } from "./brokers/postgres/pg-errors.js";
export { migrate as migratePostgres, SCHEMA_VERSION } from "./brokers/postgres/schema.js";
