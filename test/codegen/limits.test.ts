import { describe, expect, it } from "vitest";
import { topicLimits } from "../../src/core/limits.js";
import { registry } from "./expected/limits.js";
import { router, worker } from "./fixtures/limits/actors.js";

/**
 * The limits repid-gen writes into the registry (read statically from the actor files) are the
 * ones the runtime reads from the same files when they run: a producer's
 * `Queue.declare({ registry })` declares what the workers declare (issue 26).
 */
describe("limits in the generated registry", () => {
  const actors = [...router.actors.values(), ...worker.actors.values()];

  it("lists one entry per actor of the fixture", () => {
    expect(Object.keys(registry).sort()).toEqual(actors.map((a) => a.name).sort());
  });

  for (const actor of actors) {
    it(`agrees with the runtime on actor "${actor.name}"`, () => {
      const definition = registry[actor.name as keyof typeof registry];
      const fromRegistry = topicLimits(
        "concurrency" in definition ? definition.concurrency : undefined,
        "rateLimit" in definition ? definition.rateLimit : undefined,
      );
      expect(fromRegistry).toEqual(actor.limits);
      expect(fromRegistry).toBeDefined();
    });
  }
});
