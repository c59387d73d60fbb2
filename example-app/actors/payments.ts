import type { ActorContext } from "repid";
import { router } from "./router.js";
import type { Money } from "./types.js";

/** Retries back off linearly, 25 ms per retry: short enough for the demo. */
export function linearBackoff(retryNumber: number): number {
  return 25 * retryNumber;
}

/**
 * Actor with retries and a custom retry policy: the payment gateway declines the first
 * `declines` attempts (a stand-in for a flaky remote service), then captures.
 */
export const chargeCard = router.actor(
  { name: "charge_card", queue: "payments", retryPolicy: linearBackoff, storeResult: true },
  async (charge: { orderId: string; amount: Money; declines: number }, context: ActorContext) => {
    if (context.attempt <= charge.declines) {
      throw new Error(`gateway declined attempt ${context.attempt} for ${charge.orderId}`);
    }
    return { orderId: charge.orderId, status: "captured" as const, attempts: context.attempt };
  },
);
