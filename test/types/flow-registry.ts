// A registry for the flow type tests (flow-types.ts, fixtures/flow-misuse.ts), typed as a
// generated one is: zod schemas, and the client built by createClient.
import { z } from "zod";
import { createClient, defineRegistry } from "repid";

const Resized = z.object({ width: z.number(), bytes: z.number() });

export const registry = defineRegistry({
  fetch_page: {
    name: "fetch_page",
    property: "fetchPage",
    queue: "default",
    args: z.object({ url: z.string() }),
    result: z.object({ html: z.string() }),
  },
  parse_page: {
    name: "parse_page",
    property: "parsePage",
    queue: "default",
    args: z.object({ html: z.string() }),
    result: z.object({ rows: z.array(z.string()) }),
  },
  store_rows: {
    name: "store_rows",
    property: "storeRows",
    queue: "default",
    args: z.object({ rows: z.array(z.string()) }),
    result: z.number(),
  },
  resize: {
    name: "resize",
    property: "resize",
    queue: "default",
    args: z.object({ width: z.number() }),
    result: Resized,
  },
  zip_files: {
    name: "zip_files",
    property: "zipFiles",
    queue: "default",
    args: z.tuple([Resized, Resized]),
    result: z.string(),
  },
  zip_any: {
    name: "zip_any",
    property: "zipAny",
    queue: "default",
    args: z.array(Resized),
    result: z.string(),
  },
});

export const jobs = createClient(registry);
