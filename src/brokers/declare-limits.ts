import type { MessageBroker } from "./broker.js";
import { capabilitiesOf } from "./broker.js";
import { NotSupportedError } from "../core/errors.js";
import type { TopicLimits } from "../core/limits.js";

/** One actor's limits as declared to the broker: its queue, its name, its limits or none. */
export interface LimitsDeclaration {
  readonly queue: string;
  readonly name: string;
  readonly limits?: TopicLimits | undefined;
}

/**
 * Declares each actor's limits on the broker (an actor without limits removes any its name had
 * there: the last declaration wins). On a broker without `limits`, an actor that has limits is
 * refused with `NotSupportedError` and the others need nothing.
 */
export async function declareLimits(
  broker: MessageBroker,
  actors: Iterable<LimitsDeclaration>,
): Promise<void> {
  const supported = capabilitiesOf(broker).limits === true && broker.declareLimits !== undefined;
  for (const actor of actors) {
    if (!supported) {
      if (actor.limits)
        throw new NotSupportedError(
          broker.constructor.name,
          "limits",
          `actor "${actor.name}" has concurrency or rate limits across workers; use the in-memory, Redis or Postgres broker for them`,
        );
      continue;
    }
    await broker.declareLimits!(actor.queue, actor.name, actor.limits);
  }
}
