// Importing this module registers every actor of the example on `router`.
import "./email.js";
import "./orders.js";
import "./payments.js";
import "./primes.js";

export { router } from "./router.js";
