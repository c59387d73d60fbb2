/**
 * `describe` for suites that need a service (Redis, a Redis Cluster, RabbitMQ): run when the
 * service answered; without it, skipped with a loud message, except under `CI=true`, where one
 * failing test says why (CI must never go green by silently skipping a broker).
 */
import { describe, it } from "vitest";

const CI = process.env.CI === "true";

export interface Service {
  /** "Redis", "Redis Cluster", "RabbitMQ". */
  readonly name: string;
  /** Where it was looked for, e.g. "REDIS_URL=redis://127.0.0.1:6379". */
  readonly at: string;
  /** Why it did not answer, or undefined when it did. */
  readonly problem: string | undefined;
  /** How to get one, for the skip message. */
  readonly hint: string;
}

export function describeService(service: Service, name: string, body: () => void): void {
  if (service.problem === undefined) {
    describe(name, body);
    return;
  }
  if (CI) {
    describe(name, () => {
      it(`needs a ${service.name} at ${service.at} (CI=true)`, () => {
        throw new Error(
          `No ${service.name} at ${service.at} (${service.problem}); the ${service.name} suites cannot be skipped under CI`,
        );
      });
    });
    return;
  }
  const line = "!".repeat(78);
  console.warn(
    `\n${line}\n!! SKIPPING ${service.name} suite "${name}": no ${service.name} at ${service.at} (${service.problem}).\n!! ${service.hint}\n${line}\n`,
  );
  describe.skip(name, body);
}
