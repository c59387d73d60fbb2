// The registry of the flow type tests (flow-types.ts, fixtures/flow-misuse.ts): the flow tests'
// actors (test/brokers/flow-actors.ts), plus a join that takes exactly two results, typed as a
// generated registry is, with the client built by createClient.
import { z } from "zod";
import { createClient, defineRegistry } from "repid";
import { Resized, flowRegistry } from "../brokers/flow-actors.js";

export const registry = defineRegistry({
  ...flowRegistry,
  zip_pair: {
    name: "zip_pair",
    property: "zipPair",
    queue: "default",
    args: z.tuple([Resized, Resized]),
    result: z.string(),
  },
});

export const jobs = createClient(registry);
