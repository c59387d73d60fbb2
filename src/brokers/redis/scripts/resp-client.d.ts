/** Types of resp-client.js (the keep-alive thread's small Redis client). */
export declare class RespReplyError extends Error {}
export declare function encodeCommand(args: readonly (string | number)[]): string;
export declare function parseReply(
  buf: Buffer,
  pos: number,
): { value: unknown; end: number } | undefined;
export interface RespClientOptions {
  host?: string;
  port?: number;
  path?: string;
  family?: number;
  tls?: object | boolean;
  username?: string;
  password?: string;
  db?: number;
  connectTimeout?: number;
  connectionName?: string;
}
export declare class RespClient {
  constructor(options: RespClientOptions, timeoutMs: number);
  call(args: readonly (string | number)[]): Promise<unknown>;
  close(): void;
}
