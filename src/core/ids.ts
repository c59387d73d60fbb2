import { randomFillSync } from "node:crypto";

/**
 * Random bytes for 256 ids, drawn from the CSPRNG at once (as uuid's own v4 does with a smaller
 * pool). Formatting the hex digits straight from it costs about 130 ns an id, against 520 ns for
 * uuid's `v4()` with its dashes removed.
 */
const pool = Buffer.alloc(16 * 256);
let at = pool.length;

/** A fresh message id: uuid v4 as 32 hex digits (repid's `uuid4().hex`). */
export function newId(): string {
  if (at === pool.length) {
    randomFillSync(pool);
    at = 0;
  }
  pool[at + 6] = (pool[at + 6]! & 0x0f) | 0x40; // version 4
  pool[at + 8] = (pool[at + 8]! & 0x3f) | 0x80; // the RFC 4122 variant
  const id = pool.toString("hex", at, at + 16);
  at += 16;
  return id;
}
