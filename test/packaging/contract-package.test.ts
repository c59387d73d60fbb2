/**
 * `repid-contract` as another broker's author uses it: installed beside repid and vitest in a new
 * project, its suites run against a broker (here the in-memory one) under that project's vitest.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { newProject, removeProjects, packed, sh } from "./packages.js";

afterAll(removeProjects);

const TEST = `import { InMemoryMessageBroker } from "repid";
import {
  describeAdminContract,
  describeBrokerContract,
  describeFlows,
  describeLimitsContract,
  describeLimitsRuntime,
  describeRuntimeContract,
} from "repid-contract";

const factory = async (options) => {
  const broker = new InMemoryMessageBroker({ ...options, leaseCheckIntervalMs: 50 });
  return { broker, cleanup: () => broker.disconnect() };
};
describeBrokerContract("my broker", factory);
describeAdminContract("my broker", factory);
// The runtime suite opens several connections per test: one broker, as in one process.
let shared;
describeRuntimeContract("my broker", async () => {
  const broker = (shared ??= new InMemoryMessageBroker({ leaseCheckIntervalMs: 50 }));
  const cleanup = async () => {
    if (shared === broker) shared = undefined;
    await broker.disconnect();
  };
  return { broker, cleanup };
});
// Limits and flows: one broker per test, every open() of it the same one.
const oneStore = async () => {
  const broker = new InMemoryMessageBroker({ leaseCheckIntervalMs: 50 });
  await broker.connect();
  return { open: async () => broker, cleanup: () => broker.disconnect() };
};
describeLimitsContract("my broker", oneStore);
describeLimitsRuntime("my broker", oneStore);
describeFlows("my broker", async () => {
  const broker = new InMemoryMessageBroker();
  return { broker, cleanup: () => broker.disconnect() };
});
`;

it("runs the broker contract suites from repid-contract with the author's vitest", async () => {
  const tarballs = await packed();
  const dir = await newProject("broker-author", {
    dependencies: { repid: tarballs.repid, zod: "node_modules/zod" },
    devDependencies: {
      "repid-contract": tarballs["repid-contract"],
      vitest: "node_modules/vitest",
    },
  });
  writeFileSync(join(dir, "my-broker.test.mjs"), TEST);
  const report = join(dir, "report.json");
  await sh(
    process.execPath,
    [
      join(dir, "node_modules/vitest/vitest.mjs"),
      "run",
      "--reporter=json",
      `--outputFile=${report}`,
    ],
    dir,
  );
  const counts = JSON.parse(readFileSync(report, "utf8"));
  expect(counts.numTotalTests).toBeGreaterThan(20);
  expect(counts.numFailedTests).toBe(0);
  // This broker can do everything: the only tests skipped are those of what a broker that cannot
  // do something refuses.
  expect(counts.numPassedTests + counts.numPendingTests).toBe(counts.numTotalTests);
  const skipped = (
    counts.testResults as { assertionResults: { title: string; status: string }[] }[]
  )
    .flatMap((file) => file.assertionResults)
    .filter((t) => t.status !== "passed")
    .map((t) => t.title);
  expect(skipped.length).toBeGreaterThan(0);
  for (const title of skipped) expect(title).toMatch(/refuse|fails at enqueue/);
  expect(counts.numTotalTests).toBeGreaterThan(80);
}, 300_000);
