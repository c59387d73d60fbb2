import { v4 } from "uuid";

/** A fresh message id: uuid v4 as 32 hex digits (repid's `uuid4().hex`). */
export function newId(): string {
  return v4().replaceAll("-", "");
}
