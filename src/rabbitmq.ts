/**
 * `repid/rabbitmq`: the RabbitMQ broker. Only this entry point loads amqplib (an optional peer
 * dependency of repid), so apps on other brokers never need it.
 * @example
 * import { Connection } from "repid";
 * import { RabbitMessageBroker } from "repid/rabbitmq";
 * import { RedisResultStore } from "repid/redis";
 *
 * const connection = new Connection(new RabbitMessageBroker("amqp://guest:guest@127.0.0.1:5672"), {
 *   results: new RedisResultStore("redis://127.0.0.1:6379"),
 * });
 */
export {
  RabbitMessageBroker,
  type AmqpSource,
  type RabbitBrokerOptions,
} from "./brokers/rabbitmq/rabbitmq-broker.js";
