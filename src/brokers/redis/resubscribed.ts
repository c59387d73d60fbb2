import type { RedisClient } from "./cluster.js";

/**
 * Calls `readAgain` each time `sub` has its subscriptions back after losing them (a dropped
 * connection, a cluster's subscribers rebuilt after a failover): whatever was published on them
 * meanwhile never arrives, so the kept values must be read again. The first connection does not
 * count (its subscribers read once subscribed).
 */
export function onResubscribed(sub: RedisClient, sharded: boolean, readAgain: () => void): void {
  let connectedOnce = false;
  if (sharded) {
    // The subscriber group was rebuilt (a node left, a replica was promoted): it subscribes
    // again without waiting for confirmations, so read now and once more a moment later.
    sub.on("subscribersReady", () => {
      readAgain();
      setTimeout(readAgain, 250).unref();
    });
  }
  sub.on("ready", () => {
    if (!connectedOnce) {
      connectedOnce = true;
      return;
    }
    // ioredis resubscribes by itself before this event; the PING answers after those
    // subscriptions are confirmed, and then what was published while we were away is read.
    sub
      .ping()
      .then(readAgain)
      .catch(() => {});
  });
}
