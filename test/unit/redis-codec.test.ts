/**
 * The stored form of a Redis message: what a new message costs (the meta holds only what is
 * set), every field round-trips, and messages stored by earlier versions still decode.
 */
import { describe, expect, it } from "vitest";
import type { OutgoingMessage } from "../../src/brokers/broker.js";
import { decodeMessage, encodeNew } from "../../src/brokers/redis/codec.js";

const base: OutgoingMessage = {
  id: "m",
  queue: "q",
  topic: "noop",
  payload: undefined,
  priority: 1,
  retries: 0,
  timeoutMs: 600_000,
};

/** What enqueue.lua stores: the seq, then the encoded rest. */
const stored = (m: OutgoingMessage): string => `7|${encodeNew(m, 1795941415682, "EAT0gWrM.0")}`;

describe("redis message codec", () => {
  it("stores a no-op message in 55 bytes: nothing for fields left unset", () => {
    const text = stored(base);
    expect(text).toBe('7|1|1|0||["noop",0,600000,1795941415682,"EAT0gWrM.0"]\n');
    expect(Buffer.byteLength(text) - 2).toBeLessThanOrEqual(55); // without the seq
  });

  it("round-trips every field, an empty payload included", () => {
    const full: OutgoingMessage = {
      ...base,
      payload: '{"to":"a@b.c"}',
      priority: 0,
      retries: 3,
      executeAt: 1795941415999,
      resultTtlMs: 5000,
      schedule: { cron: "* * * * *" },
      headers: { "repid-schema": "abc" },
    };
    const m = decodeMessage("q", "m", stored(full))!;
    expect(m).toEqual({ ...full, enqueuedAt: 1795941415682, attempt: 1, stalls: 0 });
    expect(decodeMessage("q", "m", stored(base))!.payload).toBeUndefined();
    expect(decodeMessage("q", "m", stored({ ...base, payload: "" }))!.payload).toBe("");
  });

  it("reads messages stored in the first layout", () => {
    const old = '3|2|4|1|123|["t",2,1000,99,500,null,1,{"k":"v"},"x.1"]\n[1]';
    expect(decodeMessage("q", "m", old)).toEqual({
      id: "m",
      queue: "q",
      topic: "t",
      payload: "[1]",
      priority: 2,
      retries: 2,
      timeoutMs: 1000,
      attempt: 4,
      enqueuedAt: 99,
      stalls: 1,
      executeAt: 123,
      resultTtlMs: 500,
      headers: { k: "v" },
    });
    const older = '3|1|1|0||["t",0,1000,99,null,null,0]\n';
    expect(decodeMessage("q", "m", older)).toMatchObject({ topic: "t", payload: undefined });
  });

  it("refuses what is neither layout", () => {
    expect(decodeMessage("q", "m", '1|1|1|0||["t",0,1000,99]\n')).toBeUndefined();
    expect(decodeMessage("q", "m", '1|1|1|0||["t",0,1000,99,"o",7]\n')).toBeUndefined();
    expect(decodeMessage("q", "m", '1|1|1|0||{"t":1}\n')).toBeUndefined();
  });
});
