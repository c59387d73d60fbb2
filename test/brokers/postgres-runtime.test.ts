import { describeFlows } from "./flows-runtime.js";
import { describeRuntimeContract, type RuntimeBrokerFactory } from "./runtime-contract.js";
import {
  describePostgres,
  dropSchema,
  postgresAvailable,
  testBroker,
  uniqueSchema,
} from "./postgres-env.js";

// Connections of one test share a schema (as separate processes would share one database); each
// gets its own broker. The schema is dropped with the test's last connection.
let schema: string | undefined;
let open = 0;

describePostgres("postgres runtime", () => {
  if (!postgresAvailable) return;
  const factory: RuntimeBrokerFactory = async () => {
    const shared = (schema ??= uniqueSchema());
    open++;
    const { broker } = testBroker({ schema: shared });
    return {
      broker,
      cleanup: async () => {
        await broker.disconnect();
        if (--open > 0) return;
        schema = undefined;
        await dropSchema(shared);
      },
    };
  };
  describeRuntimeContract("postgres", factory);
  describeFlows("postgres", factory);
});
