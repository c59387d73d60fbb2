/**
 * A TCP proxy in front of a Redis that can lose one reply: armed with a marker, it forwards the
 * next client chunk containing the marker to Redis (so the command is applied), swallows Redis's
 * answer and cuts the connection. ioredis then reconnects and sends the unanswered command again.
 */
import { connect, createServer, type Server, type Socket } from "node:net";

export interface CuttingProxy {
  readonly port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /**
   * From now on, what a newly accepted connection sends is held this long before it reaches
   * Redis (a slow new connection, such as a subscriber's, beside a fast established one).
   */
  holdNewConnections(ms: number): void;
  /** The next command containing `marker` is applied but its reply is lost. */
  arm(marker: string): void;
  /** How many replies were cut so far. */
  readonly cuts: number;
  close(): Promise<void>;
}

export async function cuttingProxy(targetPort: number): Promise<CuttingProxy> {
  let marker: string | undefined;
  let cuts = 0;
  let connections = 0;
  let holdMs = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, "127.0.0.1");
    sockets.add(client);
    sockets.add(upstream);
    let cutting = false;
    connections++;
    const holdUntil = holdMs > 0 ? Date.now() + holdMs : 0;
    client.on("data", (chunk: Buffer) => {
      if (marker !== undefined && chunk.includes(marker)) {
        marker = undefined;
        cutting = true;
      }
      const wait = holdUntil - Date.now();
      if (wait > 0) setTimeout(() => upstream.write(chunk), wait);
      else upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      if (cutting) {
        cuts++;
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(chunk);
    });
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("close", end);
    upstream.on("close", end);
    client.on("error", end);
    upstream.on("error", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    port,
    arm(m) {
      marker = m;
    },
    get cuts() {
      return cuts;
    },
    get connections() {
      return connections;
    },
    holdNewConnections(ms) {
      holdMs = ms;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
