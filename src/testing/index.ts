/**
 * `repid/testing`: test your actors and producers without running a broker or a worker by hand.
 * Works with any test runner (the examples use vitest).
 * @example
 * import { createTestApp, type TestApp } from "repid/testing";
 * import { router } from "../src/actors/index.js";
 * import { jobs, registry } from "../src/generated/registry.js";
 *
 * let testing: TestApp<typeof registry>;
 * beforeEach(async () => (testing = await createTestApp({ routers: [router], registry })));
 * afterEach(() => testing.close());
 *
 * it("sends the welcome email", async () => {
 *   await testing.magic(() => jobs.sendEmail.enqueue({ to: "ada@example.com", subject: "Hi", body: "" }));
 *   expect(testing.enqueued("send_email")).toEqual([{ to: "ada@example.com", subject: "Hi", body: "" }]);
 * });
 */
export {
  TestApp,
  createTestApp,
  type ActorArgsOf,
  type ActorMock,
  type ActorNameOf,
  type ActorResultOf,
  type TestAppOptions,
} from "./test-app.js";
export type { EnqueuedMessage } from "./test-broker.js";
