/** The in-memory broker's processing rate, in a process of its own (as an embedded user runs it). */
import { repidSystem } from "./systems.js";

const count = Number(process.argv[2]);
const system = await repidSystem("memory", "bench-in-memory");
await system.enqueue(count, "bulk");
const t0 = performance.now();
await system.process(count, 100);
const ms = performance.now() - t0;
await system.close();
process.send!({ ms }, () => process.exit(0));
