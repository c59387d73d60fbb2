// A worker in a fresh process, as a deploy or an autoscaler starts one: loads its system, runs
// `count` no-op jobs that already wait in the queue, and reports when each milestone job started,
// measured from the call that starts the worker (and the module loading before it). Plain
// JavaScript, so that `node bench/cold-child.mjs` runs repid from its built dist/ with no loader.
const loadStart = performance.now();
const [system, url, queueName, countText, concurrencyText, prefix] = process.argv.slice(2);
const count = Number(countText);
const concurrency = Number(concurrencyText);
const MILESTONES = [1, 1_000, 20_000];
const CPU_MARKS = [2_000, 10_000, 20_000];
// A Map, not an object given new properties mid-run: a property added at the 20,000th job
// changes the object's shape under the optimized code of the caller the actor is inlined
// into (the worker's own), and the measurement would pay for that de-optimization.
const marks = new Map();
let done = 0;
let started = 0;
let runAt = 0;
let finish;
const finished = new Promise((resolve) => (finish = resolve));

function onStart() {
  started++;
  if (MILESTONES.includes(started)) marks.set(String(started), performance.now() - runAt);
  // The process's CPU so far (µs) at these jobs: CPU per job before and after the JIT warmed up.
  if (CPU_MARKS.includes(started) || (process.env.COLD_TRACE && started % 2000 === 0)) {
    const c = process.cpuUsage();
    marks.set(`cpu${started}`, c.user + c.system);
  }
}
function onDone() {
  done++;
  if (done === 20_000) marks.set("done20000", performance.now() - runAt);
  if (done === count && system !== "repid") finish();
}

let loadMs = 0;
let stop;
if (system === "repid") {
  const { Connection, Worker } = await import("repid");
  const { RedisMessageBroker } = await import("repid/redis");
  loadMs = performance.now() - loadStart;
  const connection = new Connection(new RedisMessageBroker(url, { prefix }));
  const worker = new Worker({ connection, concurrency, messagesLimit: count, handleSignals: [] });
  worker.actor({ queue: queueName }, async function noop() {
    onStart();
    onDone();
  });
  runAt = performance.now();
  // The run ends once every job is settled: that, not the last actor's return, is the end.
  void worker.run().then(finish);
  stop = () => connection.disconnect();
} else if (system === "bullmq") {
  const { Worker } = await import("bullmq");
  const { Redis } = await import("ioredis");
  loadMs = performance.now() - loadStart;
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  runAt = performance.now();
  const worker = new Worker(queueName, async () => onStart(), {
    connection,
    prefix,
    concurrency,
  });
  worker.on("completed", onDone);
  stop = async () => {
    await worker.close();
    connection.disconnect();
  };
} else {
  const { default: BeeQueue } = await import("bee-queue");
  loadMs = performance.now() - loadStart;
  runAt = performance.now();
  const worker = new BeeQueue(queueName, {
    prefix,
    redis: { url },
    isWorker: true,
    getEvents: false,
    sendEvents: false,
    storeJobs: false,
    removeOnSuccess: true,
    removeOnFailure: true,
  });
  worker.on("succeeded", onDone);
  worker.process(concurrency, async () => onStart());
  stop = () => worker.close();
}
await finished;
const totalMs = performance.now() - runAt;
const cpu = process.cpuUsage();
await stop();
process.send(
  { loadMs, marks: Object.fromEntries(marks), totalMs, cpuUs: cpu.user + cpu.system },
  () => process.exit(0),
);
