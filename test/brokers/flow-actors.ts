/**
 * The actors and registry of the flow tests (flows-runtime.ts, the flow crash test): no test
 * framework here, so that worker processes can load it.
 */
import { z } from "zod";
import { NoRetryError, Router, defineRegistry } from "repid";

export const Resized = z.object({ width: z.number(), bytes: z.number() });

export const flowRegistry = defineRegistry({
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
    queue: "other",
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
    queue: "other",
    args: z.array(Resized),
    result: z.string(),
  },
  check_page: {
    name: "check_page",
    property: "checkPage",
    queue: "default",
    args: z.object({ html: z.string() }),
    result: z.object({ rows: z.array(z.string()) }),
  },
  explode: {
    name: "explode",
    property: "explode",
    queue: "default",
    args: z.object({ width: z.number() }),
    result: Resized,
  },
});

/** The actors, and a log of every run (actor name, in order). */
export function flowActors(runs: string[]): Router {
  const router = new Router();
  router.actor({ name: "fetch_page" }, async (args: { url: string }) => {
    runs.push("fetch_page");
    return { html: `<p>${args.url}</p><p>two</p>` };
  });
  // Keeps its results (a chain's middle step, whose result the flow removes once handed over).
  router.actor({ name: "parse_page", storeResult: true }, async (args: { html: string }) => {
    runs.push("parse_page");
    return {
      rows: args.html
        .split("</p>")
        .filter(Boolean)
        .map((p) => p.replace("<p>", "")),
    };
  });
  router.actor({ name: "store_rows", queue: "other" }, async (args: { rows: string[] }) => {
    runs.push("store_rows");
    return args.rows.length;
  });
  router.actor({ name: "resize" }, async (args: { width: number }) => {
    runs.push("resize");
    return { width: args.width, bytes: args.width * 3 };
  });
  router.actor(
    { name: "zip_files", queue: "other" },
    async (args: { width: number; bytes: number }[]) => {
      runs.push("zip_files");
      return args.map((r) => `${r.width}:${r.bytes}`).join(",");
    },
  );
  router.actor(
    { name: "check_page" },
    async (_args: { html: string }): Promise<{ rows: string[] }> => {
      runs.push("check_page");
      throw new NoRetryError("this page does not parse");
    },
  );
  router.actor({ name: "explode" }, async (_args: { width: number }) => {
    runs.push("explode");
    throw new NoRetryError("cannot resize this one");
  });
  return router;
}
