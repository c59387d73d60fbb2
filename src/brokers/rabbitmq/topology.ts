/**
 * The RabbitMQ objects behind one repid queue, and the delay ladder.
 *
 * - `<prefix>.<queue>`: the main queue, classic, durable, `x-max-priority` 5. A repid priority
 *   maps to two AMQP priorities: the lower for fresh messages, the higher for messages coming
 *   back (requeued, retried, due after a delay), so they go ahead of fresh ones of their level,
 *   as the in-memory broker keeps their place. Levels stay strict: high (4, 5) before medium
 *   (2, 3) before low (0, 1).
 * - `<prefix>.<queue>.dead`: dead letters, one JSON record each, oldest first.
 * - The delay ladder: `LEVELS` queues `<prefix>.<queue>.delay.<n>`, each with a fixed TTL of
 *   `UNIT_MS * 2^n`, and as many topic exchanges `<prefix>.<queue>.route.<n>`. A delayed
 *   message's routing key spells its delay in units as binary digits, highest level first
 *   ("0.0.1.0.1"); exchange n sends it to delay queue n when digit n is 1, else on to exchange
 *   n - 1; delay queue n dead-letters expired messages into exchange n - 1 (queue 0 into the main
 *   queue). Every queue of the ladder holds messages of one TTL only, so its head always expires
 *   first: no message ever waits behind a longer one, and none needs a plugin. A delay is
 *   rounded up to the unit (10 ms); a message is ready between its due time and a few hops later.
 */
import type { Channel } from "amqplib";

/** Levels of the ladder: delays up to (2^32 - 1) * 10 ms, about 497 days, in one pass. */
export const LEVELS = 32;
/** The ladder's unit: delays are rounded up to it. */
export const UNIT_MS = 10;
/** Highest AMQP priority used (see the module comment). */
export const MAX_PRIORITY = 5;

/** Names of the objects of one repid queue. */
export interface QueueNames {
  readonly queue: string;
  readonly main: string;
  readonly dead: string;
  delay(level: number): string;
  route(level: number): string;
}

export function queueNames(prefix: string, queue: string): QueueNames {
  const base = `${prefix}.${queue}`;
  return {
    queue,
    main: base,
    dead: `${base}.dead`,
    delay: (n) => `${base}.delay.${n}`,
    route: (n) => `${base}.route.${n}`,
  };
}

/** The AMQP priority of a message of repid priority `priority` (0 high .. 2 low). */
export function amqpPriority(priority: number, back: boolean): number {
  const level = priority <= 0 ? 0 : priority >= 2 ? 2 : 1;
  return (2 - level) * 2 + (back ? 1 : 0);
}

/** Ladder units for a delay of `ms` (rounded up; clamped to what one pass can hold). */
export function delayUnits(ms: number): number {
  return Math.min(2 ** LEVELS - 1, Math.max(1, Math.ceil(ms / UNIT_MS)));
}

/** The routing key spelling `units` in binary, level `LEVELS - 1` first. */
export function ladderKey(units: number): string {
  const digits: string[] = [];
  for (let n = LEVELS - 1; n >= 0; n--) digits.push(Math.floor(units / 2 ** n) % 2 ? "1" : "0");
  return digits.join(".");
}

/** The binding pattern matching digit `level` equal to `digit`. */
function pattern(level: number, digit: "0" | "1"): string {
  return [...Array<string>(LEVELS - 1 - level).fill("*"), digit, "#"].join(".");
}

/** One RPC to run on some channel. */
export type Task = (ch: Channel) => Promise<unknown>;
/** Runs tasks concurrently over several channels (RabbitMQ answers one RPC per channel at a time). */
export type Run = (tasks: readonly Task[]) => Promise<void>;

/** Creates every object of the queue (idempotent; RabbitMQ ignores an identical re-declaration). */
export async function declareTopology(run: Run, n: QueueNames): Promise<void> {
  const objects: Task[] = [
    (ch) =>
      ch.assertQueue(n.main, { durable: true, arguments: { "x-max-priority": MAX_PRIORITY } }),
    (ch) => ch.assertQueue(n.dead, { durable: true }),
  ];
  const bindings: Task[] = [];
  for (let level = 0; level < LEVELS; level++) {
    objects.push((ch) => ch.assertExchange(n.route(level), "topic", { durable: true }));
    objects.push((ch) =>
      ch.assertQueue(n.delay(level), {
        durable: true,
        arguments: {
          "x-message-ttl": UNIT_MS * 2 ** level,
          ...(level === 0
            ? { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": n.main }
            : { "x-dead-letter-exchange": n.route(level - 1) }),
        },
      }),
    );
    bindings.push((ch) => ch.bindQueue(n.delay(level), n.route(level), pattern(level, "1")));
    bindings.push((ch) =>
      level === 0
        ? ch.bindQueue(n.main, n.route(0), pattern(0, "0"))
        : ch.bindExchange(n.route(level - 1), n.route(level), pattern(level, "0")),
    );
  }
  await run(objects);
  await run(bindings);
}

/** Removes every object of the queue. */
export async function deleteTopology(run: Run, n: QueueNames): Promise<void> {
  const queues: Task[] = [(ch) => ch.deleteQueue(n.dead), (ch) => ch.deleteQueue(n.main)];
  for (let level = 0; level < LEVELS; level++) queues.push((ch) => ch.deleteQueue(n.delay(level)));
  await run(queues);
  // RabbitMQ 3.10 crashes (541 INTERNAL_ERROR, closing the connection) when two exchanges bound
  // to each other are deleted at the same time: even levels first, then odd ones.
  for (const parity of [0, 1]) {
    const exchanges: Task[] = [];
    for (let level = parity; level < LEVELS; level += 2) {
      exchanges.push((ch) => ch.deleteExchange(n.route(level)));
    }
    await run(exchanges);
  }
}

/** Empties every queue of the queue's topology (main, dead, ladder). */
export async function purgeTopology(ch: Channel, n: QueueNames): Promise<void> {
  // Top down: a message expiring meanwhile only moves down, into a queue not yet purged.
  for (let level = LEVELS - 1; level >= 0; level--) await ch.purgeQueue(n.delay(level));
  await ch.purgeQueue(n.main);
  await ch.purgeQueue(n.dead);
}
