// resp-client.js: the smallest Redis client the keep-alive thread needs, over node:net or
// node:tls. It sends commands in RESP2 and reads simple strings, errors, integers, bulk strings
// and arrays. Plain JavaScript on purpose (threads do not inherit a TypeScript loader), and no
// ioredis: loading ioredis in a new thread costs about 180 ms of CPU, this file about 5 ms, and a
// heartbeat needs nothing else (one script call at a time, no pub/sub, no cluster routing; the
// thread uses ioredis's Cluster for a cluster). Connects on first use and again on the first
// call after the connection is lost; a call without a reply within `timeoutMs` fails and drops
// the connection.
import net from "node:net";
import tls from "node:tls";

/** An error reply of Redis (its text starts with the error code: NOSCRIPT, WRONGPASS...). */
export class RespReplyError extends Error {
  constructor(message) {
    super(message);
    this.name = "ReplyError";
  }
}

const CRLF = "\r\n";

/** RESP2 encoding of one command. */
export function encodeCommand(args) {
  let out = `*${args.length}${CRLF}`;
  for (const arg of args) {
    const text = String(arg);
    out += `$${Buffer.byteLength(text)}${CRLF}${text}${CRLF}`;
  }
  return out;
}

/**
 * Parses one reply at `pos` of `buf`: `{ value, end }`, or undefined when the buffer does not
 * hold all of it yet. An error reply's value is a RespReplyError.
 */
export function parseReply(buf, pos) {
  const eol = buf.indexOf(CRLF, pos);
  if (eol < 0) return undefined;
  const type = String.fromCharCode(buf[pos]);
  const line = buf.toString("utf8", pos + 1, eol);
  const next = eol + 2;
  switch (type) {
    case "+":
      return { value: line, end: next };
    case "-":
      return { value: new RespReplyError(line), end: next };
    case ":":
      return { value: Number(line), end: next };
    case "$": {
      const length = Number(line);
      if (length < 0) return { value: null, end: next };
      if (buf.length < next + length + 2) return undefined;
      return { value: buf.toString("utf8", next, next + length), end: next + length + 2 };
    }
    case "*": {
      const count = Number(line);
      if (count < 0) return { value: null, end: next };
      const items = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, at);
        if (!item) return undefined;
        items.push(item.value);
        at = item.end;
      }
      return { value: items, end: at };
    }
    default:
      throw new Error(`unexpected reply type ${JSON.stringify(type)} from Redis`);
  }
}

export class RespClient {
  /**
   * `options`: host, port, path, family, tls (tls.connect options, or true), username, password,
   * db, connectTimeout, connectionName (ioredis's names for them).
   */
  constructor(options, timeoutMs) {
    this.options = options;
    this.timeoutMs = timeoutMs;
    this.socket = undefined;
    this.ready = undefined;
    this.pending = [];
    this.buffer = Buffer.alloc(0);
  }

  /** Sends one command; resolves with its reply, rejects with a RespReplyError or a lost connection. */
  async call(args) {
    if (!this.ready) this.ready = this.#connect();
    await this.ready;
    return this.#send(args);
  }

  close() {
    const socket = this.socket;
    this.#drop(new Error("connection closed by the client"));
    if (socket) socket.destroy();
  }

  #send(args) {
    const socket = this.socket;
    if (!socket) return Promise.reject(new Error("not connected to Redis"));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const error = new Error(`no reply from Redis within ${this.timeoutMs} ms`);
        this.#drop(error);
        socket.destroy();
      }, this.timeoutMs);
      this.pending.push({ resolve, reject, timer });
      socket.write(encodeCommand(args));
    });
  }

  async #connect() {
    const o = this.options;
    const socket = await new Promise((resolve, reject) => {
      const connectTimeout = o.connectTimeout ?? 10_000;
      let s;
      if (o.tls) {
        const extra = typeof o.tls === "object" ? o.tls : {};
        s = tls.connect({ host: o.host ?? "localhost", port: o.port ?? 6379, ...extra });
      } else if (o.path) {
        s = net.connect(o.path);
      } else {
        s = net.connect({ host: o.host ?? "localhost", port: o.port ?? 6379, family: o.family });
      }
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`connecting to Redis timed out after ${connectTimeout} ms`));
      }, connectTimeout);
      s.once(o.tls ? "secureConnect" : "connect", () => {
        clearTimeout(timer);
        s.removeListener("error", fail);
        resolve(s);
      });
      const fail = (error) => {
        clearTimeout(timer);
        reject(error);
      };
      s.once("error", fail);
    }).catch((error) => {
      this.ready = undefined;
      throw error;
    });
    socket.setNoDelay(true);
    this.socket = socket;
    this.buffer = Buffer.alloc(0);
    socket.on("data", (chunk) => this.#onData(chunk));
    socket.on("error", (error) => this.#lost(socket, error));
    socket.on("close", () => this.#lost(socket, new Error("connection to Redis closed")));
    const setup = [];
    if (o.password !== undefined && o.password !== null && o.password !== "")
      setup.push(o.username ? ["AUTH", o.username, o.password] : ["AUTH", o.password]);
    if (o.db) setup.push(["SELECT", o.db]);
    if (o.connectionName) setup.push(["CLIENT", "SETNAME", o.connectionName]);
    try {
      const replies = await Promise.all(setup.map((args) => this.#send(args)));
      for (const reply of replies) if (reply instanceof Error) throw reply;
    } catch (error) {
      this.#lost(socket, error);
      socket.destroy();
      throw error;
    }
  }

  #onData(chunk) {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    let pos = 0;
    while (pos < this.buffer.length && this.pending.length > 0) {
      let reply;
      try {
        reply = parseReply(this.buffer, pos);
      } catch (error) {
        // Not RESP2 (a proxy, a wrong port): the calls fail, the connection goes.
        const socket = this.socket;
        this.#drop(error);
        socket?.destroy();
        return;
      }
      if (!reply) break;
      pos = reply.end;
      const waiter = this.pending.shift();
      clearTimeout(waiter.timer);
      if (reply.value instanceof RespReplyError) waiter.reject(reply.value);
      else waiter.resolve(reply.value);
    }
    this.buffer = pos >= this.buffer.length ? Buffer.alloc(0) : this.buffer.subarray(pos);
  }

  /** The connection `socket` is gone: its calls fail, and the next call connects again. */
  #lost(socket, error) {
    if (this.socket !== socket) return;
    this.#drop(error);
  }

  #drop(error) {
    this.socket = undefined;
    this.ready = undefined;
    this.buffer = Buffer.alloc(0);
    for (const waiter of this.pending.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
  }
}
