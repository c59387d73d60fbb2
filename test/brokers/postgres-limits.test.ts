import { describeLimitsContract, type SharedBrokerFactory } from "./limits-contract.js";
import { describeLimitsRuntime } from "./limits-runtime.js";
import {
  describePostgres,
  dropSchema,
  postgresAvailable,
  testBroker,
  uniqueSchema,
} from "./postgres-env.js";

/** Every `open()` is another broker (its own pool and LISTEN connection) over the test's schema. */
const shared: SharedBrokerFactory = async () => {
  const schema = uniqueSchema();
  const made: ReturnType<typeof testBroker>[] = [];
  return {
    open: async () => {
      const m = testBroker({ schema });
      made.push(m);
      await m.broker.connect();
      return m.broker;
    },
    // Each broker disconnects; then the schema is dropped.
    cleanup: async () => {
      for (const m of made.splice(0)) await m.broker.disconnect();
      await dropSchema(schema);
    },
  };
};

describePostgres("postgres limits", () => {
  if (!postgresAvailable) return;
  describeLimitsContract("postgres", shared);
  describeLimitsRuntime("postgres", shared);
});
