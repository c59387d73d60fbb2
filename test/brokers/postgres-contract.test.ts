import { describeAdminContract } from "./admin-contract.js";
import { describeBrokerContract } from "./contract.js";
import { describePostgres, postgresAvailable, testBroker } from "./postgres-env.js";

describePostgres("postgres broker contract", () => {
  if (!postgresAvailable) return;
  const factory = async (options: { maxStalls?: number }) => {
    const { broker, cleanup } = testBroker(
      options.maxStalls === undefined ? {} : { maxStalls: options.maxStalls },
    );
    return { broker, cleanup };
  };
  describeBrokerContract("postgres", factory);
  describeAdminContract("postgres", factory);
});
