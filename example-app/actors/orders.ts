import { router } from "./router.js";
import type { Order, OrderSummary } from "./types.js";

const DAY = 86_400_000;

/** Actor with a non-trivial argument type defined in another file (./types.ts). */
async function processOrder(order: Order): Promise<OrderSummary> {
  const amount = order.items.reduce((sum, item) => sum + item.quantity * item.unitPrice.amount, 0);
  const itemCount = order.items.reduce((sum, item) => sum + item.quantity, 0);
  const currency = order.items[0]?.unitPrice.currency ?? "EUR";
  const days = order.customer.vip ? 1 : 3;
  return {
    orderId: order.id,
    status: itemCount > 10 ? "backordered" : "accepted",
    total: { amount, currency: currency as OrderSummary["total"]["currency"] },
    itemCount,
    // placedAt is a real Date here: the registry's schema turned the ISO string back into one.
    shipBy: new Date(order.placedAt.getTime() + days * DAY).toISOString(),
  };
}

router.actor({ name: "process_order", queue: "orders", storeResult: true }, processOrder);
