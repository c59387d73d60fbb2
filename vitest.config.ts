import { defineConfig } from "vitest/config";

// Threads, child processes and tsx runs started by tests resolve "repid" to its sources.
if (!process.env.NODE_OPTIONS?.includes("--conditions=development")) {
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ""} --conditions=development`.trim();
}

export default defineConfig({
  resolve: { conditions: ["development"] },
  ssr: { resolve: { conditions: ["development"], externalConditions: ["development"] } },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
  },
});
