/**
 * Throwaway Redis servers for the fault-injection suite: each on a free loopback port, in its own
 * temporary directory, started and stopped by pid. The shared Redis is never reconfigured.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import type { Logger } from "../../src/core/logger.js";

/** A port nobody listens on right now (bound once by us, then released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface ThrowawayRedis {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** A plain client for the test (tampering, CONFIG SET, CLIENT PAUSE: this server is ours). */
  admin(password?: string): Redis;
  /** Kills the server (SIGKILL: no goodbye, as a crash) and waits for it to be gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port and directory (AOF, if enabled, is replayed). */
  start(): Promise<void>;
  /** Stops it for good and removes its directory. */
  stop(): Promise<void>;
}

/** Starts `redis-server` with `args` (e.g. ["--appendonly", "yes"]) and waits for PING. */
export async function startRedis(args: readonly string[] = []): Promise<ThrowawayRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "repid-fault-"));
  let proc: ChildProcess | undefined;
  const admins: Redis[] = [];
  const launch = async (): Promise<void> => {
    proc = spawn(
      "redis-server",
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        dir,
        "--save",
        "",
        "--appendonly",
        "no",
        ...args,
      ],
      { stdio: "ignore" },
    );
    const probe = new Redis({
      port,
      host: "127.0.0.1",
      lazyConnect: true,
      retryStrategy: () => 50,
    });
    probe.on("error", () => {});
    try {
      const until = Date.now() + 20_000;
      for (;;) {
        try {
          if (probe.status === "wait") await probe.connect();
          if ((await probe.ping()) === "PONG") break;
        } catch (error) {
          // Up, with a password: good enough. Otherwise loading the AOF, or not listening yet.
          if (error instanceof Error && error.message.startsWith("NOAUTH")) break;
        }
        if (Date.now() > until) {
          proc.kill("SIGKILL");
          throw new Error(`redis-server on port ${port} did not start`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      probe.disconnect();
    }
  };
  const kill = async (): Promise<void> => {
    const p = proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => p.once("exit", () => resolve()));
    p.kill("SIGKILL");
    await gone;
  };
  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    admin(password?: string) {
      const client = new Redis({ port, host: "127.0.0.1", ...(password ? { password } : {}) });
      client.on("error", () => {});
      admins.push(client);
      return client;
    },
    kill,
    start: launch,
    async stop() {
      for (const a of admins.splice(0)) a.disconnect();
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A logger that keeps every line, for assertions on what the broker said. */
export function recordingLogger(): Logger & { readonly lines: string[] } {
  const lines: string[] = [];
  const keep =
    (level: string) =>
    (message: string): void => {
      lines.push(`${level}: ${message}`);
    };
  return {
    lines,
    debug: keep("debug"),
    info: keep("info"),
    warn: keep("warn"),
    error: keep("error"),
  };
}

/** Polls a condition with a generous deadline (never a fixed sleep). */
export async function until(
  cond: () => boolean | Promise<boolean>,
  ms = 30_000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Redis server time, epoch ms. */
export async function redisTime(client: Redis): Promise<number> {
  const [s, us] = await client.time();
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

/** A throwaway server with a TLS port beside its plain one, and the certificate to trust. */
export interface TlsRedis {
  readonly redis: ThrowawayRedis;
  readonly tlsPort: number;
  /** The self-signed certificate (CN=localhost), to pass as `tls: { ca }`. */
  readonly ca: Buffer;
  /** A temporary folder of this server's, for other files a test needs. */
  readonly dir: string;
  stop(): Promise<void>;
}

/** Starts `redis-server` with a TLS port and a self-signed certificate made with openssl. */
export async function startTlsRedis(): Promise<TlsRedis> {
  const dir = mkdtempSync(join(tmpdir(), "repid-tls-"));
  const key = join(dir, "key.pem");
  const cert = join(dir, "cert.pem");
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert].concat([
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
    ]),
    { stdio: "ignore" },
  );
  const tlsPort = await freePort();
  const redis = await startRedis([
    ...["--tls-port", String(tlsPort), "--tls-cert-file", cert, "--tls-key-file", key],
    ...["--tls-ca-cert-file", cert, "--tls-auth-clients", "no"],
  ]);
  return {
    redis,
    tlsPort,
    ca: readFileSync(cert),
    dir,
    stop: async () => {
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
