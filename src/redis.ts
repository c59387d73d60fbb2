/**
 * The Redis broker, as its own entry point so that only its users load `ioredis` (an optional
 * peer dependency of repid: `npm install ioredis`).
 * @example
 * import { Connection, Repid } from "repid";
 * import { RedisMessageBroker } from "repid/redis";
 * const app = new Repid(new Connection(new RedisMessageBroker("redis://127.0.0.1:6379")));
 */
export {
  RedisMessageBroker,
  type RedisBrokerOptions,
  type RedisConnectionInput,
  type ReplicaAcks,
} from "./brokers/redis/redis-broker.js";
export { RedisBrokerError } from "./brokers/redis/redis-errors.js";
export { RedisResultStore, type RedisResultStoreOptions } from "./results/redis-result-store.js";
