/**
 * The keep-alive thread's small Redis client (src/brokers/redis/scripts/resp-client.js), against
 * a throwaway redis-server with a password: replies split across reads, every reply type the
 * heartbeat can meet, Redis's own errors (WRONGPASS, NOSCRIPT) as reply errors, a database
 * selected, a connection lost to a crash given back on the next call, and a call without a reply
 * failing at its timeout instead of hanging (CLIENT PAUSE).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedis, type ThrowawayRedis } from "./redis-server.js";

/** The module's shape (plain JavaScript, shipped without types: the package holds no sources). */
interface RespModule {
  RespReplyError: new (message: string) => Error;
  encodeCommand(args: readonly (string | number)[]): string;
  parseReply(buf: Buffer, pos: number): { value: unknown; end: number } | undefined;
  RespClient: new (
    options: Record<string, unknown>,
    timeoutMs: number,
  ) => { call(args: readonly (string | number)[]): Promise<unknown>; close(): void };
}
// A path in a variable: the compiler leaves the untyped module alone.
const modulePath = "../../src/brokers/redis/scripts/resp-client.js";
const { RespClient, RespReplyError, encodeCommand, parseReply } = (await import(
  modulePath
)) as RespModule;

describe("RESP parsing", () => {
  it("reads each reply type, and nothing of a reply not yet whole", () => {
    const text = "+OK\r\n-ERR bad\r\n:42\r\n$5\r\nhé\r\n\r\n$-1\r\n*2\r\n:1\r\n*1\r\n$1\r\nx\r\n";
    const buf = Buffer.from(text);
    const values: unknown[] = [];
    let pos = 0;
    while (pos < buf.length) {
      const r = parseReply(buf, pos)!;
      values.push(r.value);
      pos = r.end;
    }
    expect(values[0]).toBe("OK");
    expect(values[1]).toBeInstanceOf(RespReplyError);
    expect((values[1] as Error).message).toBe("ERR bad");
    expect(values.slice(2)).toEqual([42, "hé\r\n", null, [1, ["x"]]]);
    // Every proper prefix of the last reply is incomplete.
    const last = Buffer.from("*2\r\n:1\r\n*1\r\n$1\r\nx\r\n");
    for (let cut = 1; cut < last.length; cut++) {
      expect(parseReply(last.subarray(0, cut), 0)).toBeUndefined();
    }
  });

  it("encodes arguments by byte length", () => {
    expect(encodeCommand(["SET", "k", "é", 7])).toBe(
      "*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\né\r\n$1\r\n7\r\n",
    );
  });
});

it("fails its calls, and does not throw, when the server does not speak RESP", async () => {
  const net = await import("node:net");
  const server = net.createServer((socket) =>
    socket.on("data", () => socket.write("HTTP/1.1 400\r\n")),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  const client = new RespClient({ host: "127.0.0.1", port }, 2000);
  try {
    await expect(client.call(["PING"])).rejects.toThrow(/unexpected reply type/);
  } finally {
    client.close();
    server.close();
  }
});

describe("RespClient on a real Redis", () => {
  let redis: ThrowawayRedis;
  beforeAll(async () => {
    redis = await startRedis(["--requirepass", "pw"]);
  });
  afterAll(async () => {
    await redis.stop();
  });
  const options = (extra: Record<string, unknown> = {}) => ({
    host: "127.0.0.1",
    port: redis.port,
    password: "pw",
    connectionName: "resp-test",
    ...extra,
  });

  it("authenticates, selects the database, names itself and runs scripts", async () => {
    const client = new RespClient(options({ db: 5 }), 2000);
    try {
      expect(await client.call(["SET", "k", "v"])).toBe("OK");
      const admin = redis.admin("pw");
      await admin.select(5);
      expect(await admin.get("k")).toBe("v");
      expect(await admin.client("LIST")).toContain("name=resp-test");
      admin.disconnect();
      // A large bulk reply arrives in several reads.
      const big = "x".repeat(300_000);
      expect(await client.call(["EVAL", "return ARGV[1]", 0, big])).toBe(big);
      await expect(client.call(["EVALSHA", "0".repeat(40), 0])).rejects.toThrow(/^NOSCRIPT/);
    } finally {
      client.close();
    }
  });

  it("fails a wrong password with Redis's error, and works once given the right one", async () => {
    const wrong = new RespClient(options({ password: "nope" }), 2000);
    await expect(wrong.call(["PING"])).rejects.toThrow(/WRONGPASS|invalid password/);
    await expect(wrong.call(["PING"])).rejects.toThrow(/WRONGPASS|invalid password/);
    wrong.close();
  });

  it("connects again on the next call after the server crashed and came back", async () => {
    const client = new RespClient(options(), 2000);
    try {
      expect(await client.call(["PING"])).toBe("PONG");
      await redis.kill();
      await expect(client.call(["PING"])).rejects.toThrow();
      await redis.start();
      expect(await client.call(["PING"])).toBe("PONG");
    } finally {
      client.close();
    }
  });

  it("fails a call that gets no reply within its timeout, then works again", async () => {
    const client = new RespClient(options(), 300);
    const admin = redis.admin("pw");
    try {
      expect(await client.call(["PING"])).toBe("PONG");
      await admin.client("PAUSE", 1500, "ALL");
      await expect(client.call(["SET", "paused", "1"])).rejects.toThrow(/no reply/);
      await new Promise((r) => setTimeout(r, 1500));
      expect(await client.call(["PING"])).toBe("PONG");
    } finally {
      client.close();
      admin.disconnect();
    }
  });
});
