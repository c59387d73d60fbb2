import { defineConfig } from "vitest/config";

// Threads, child processes and tsx runs started by tests resolve "repid" to its sources.
if (!process.env.NODE_OPTIONS?.includes("--conditions=repid-source")) {
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ""} --conditions=repid-source`.trim();
}

export default defineConfig({
  resolve: { conditions: ["repid-source"] },
  ssr: { resolve: { conditions: ["repid-source"], externalConditions: ["repid-source"] } },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
  },
});
