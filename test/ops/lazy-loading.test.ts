/**
 * Optional parts cost nothing when unused: importing `repid` loads neither prom-client, nor
 * OpenTelemetry, nor `node:http` (the health server is loaded when a worker with `health` runs);
 * each comes with its own entry point.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const fixture = new URL("./fixtures/loaded-modules.mjs", import.meta.url).pathname;

async function loadedBy(entry: string): Promise<Record<string, boolean>> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--conditions=repid-source", "--import", "tsx", fixture, entry],
    { cwd: new URL("../..", import.meta.url).pathname },
  );
  return JSON.parse(stdout) as Record<string, boolean>;
}

describe("optional observability parts load only through their entry points (issue 11)", () => {
  it("repid loads none of them", async () => {
    expect(await loadedBy("repid")).toEqual({
      promClient: false,
      openTelemetry: false,
      http: false,
    });
  });

  it("repid/metrics loads prom-client, repid/otel the OpenTelemetry API", async () => {
    // (prom-client itself requires the OpenTelemetry API, for exemplars.)
    expect(await loadedBy("repid/metrics")).toMatchObject({ promClient: true });
    expect(await loadedBy("repid/otel")).toMatchObject({ promClient: false, openTelemetry: true });
  });
});
