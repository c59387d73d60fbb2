import { describe, expect, it } from "vitest";
import { newId } from "../../src/core/ids.js";

describe("newId", () => {
  it("is a uuid v4 in 32 hex digits, never the same twice", () => {
    const ids = Array.from({ length: 5_000 }, () => newId());
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
