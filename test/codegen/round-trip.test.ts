import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { registry } from "./expected/cases.js";
import { Account, audit } from "./fixtures/cases/classes.js";
import { resize } from "./fixtures/cases/defaults.js";
import { applySettings } from "./fixtures/cases/ambient-actor.js";
import { chargeUser, type Charge } from "./fixtures/cases/brands.js";
import { storeJson } from "./fixtures/cases/json.js";
import { tagAll } from "./fixtures/cases/readonly-values.js";
import { plot } from "./fixtures/cases/tuples.js";
import { saveProfile } from "./fixtures/cases/undefined-values.js";
import { notify } from "./fixtures/cases/unions.js";

type Name = keyof typeof registry;
const json = (value: unknown): unknown =>
  value === undefined ? undefined : JSON.parse(JSON.stringify(value));

/**
 * The path of one job, as the runtime takes it: the producer validates the arguments with the
 * generated schema and sends them as JSON; the worker validates what arrives with the same
 * schema and calls the actor; the result goes back as JSON and the client decodes it. Both the
 * raw arguments and the producer's parsed ones must survive JSON.
 */
async function roundTrip(
  name: Name,
  args: unknown,
  actor: (args: never) => unknown,
): Promise<{ received: unknown; result: unknown; decoded: unknown }> {
  const definition = registry[name] as { args: z.ZodType; result: z.ZodType };
  const produced = definition.args.safeParse(args);
  expect(produced.error?.issues, `producer validation of ${name}`).toBeUndefined();
  const fromParsed = definition.args.safeParse(json(produced.data));
  expect(fromParsed.error?.issues, `worker validation of ${name} (parsed args)`).toBeUndefined();
  const worker = definition.args.safeParse(json(args));
  expect(worker.error?.issues, `worker validation of ${name}`).toBeUndefined();
  expect(fromParsed.data).toStrictEqual(worker.data);
  const result = await actor(worker.data as never);
  const decoded = definition.result.safeParse(json(result));
  expect(decoded.error?.issues, `result decoding of ${name}`).toBeUndefined();
  return { received: worker.data, result, decoded: decoded.data };
}

describe("round trip: producer → JSON → worker → actor → result (issue 17)", () => {
  it("1. recursive JSON, linked lists and expression trees", async () => {
    const args = {
      doc: { a: [1, "x", null, { b: true, c: [] }], d: {} },
      list: { value: 1, next: { value: 2, next: null } },
      expr: { op: "add", left: { op: "num", value: 1 }, right: { op: "num", value: 2 } },
    } as const;
    const { received, decoded } = await roundTrip("storeJson", args, storeJson);
    expect(received).toStrictEqual(args);
    expect(decoded).toStrictEqual([args.doc, 1, "add"]);
    expect(registry.storeJson.args.safeParse({ ...args, doc: { a: () => 1 } }).success).toBe(false);
  });

  it("2. undefined: a key stays missing, an array slot comes back undefined, results decode", async () => {
    const args = {
      nickname: undefined,
      tags: ["a", undefined, "b"],
      pair: [1, undefined],
      point: [1, undefined],
      bio: undefined,
    };
    const { received, decoded } = await roundTrip("saveProfile", args, saveProfile);
    // JSON rule: a key whose value is undefined arrives missing; reading it gives undefined.
    expect(received).toStrictEqual({
      tags: ["a", undefined, "b"],
      pair: [1, undefined],
      point: [1, undefined],
    });
    expect(decoded).toStrictEqual({ echo: received, count: 3 });
    const short = await roundTrip(
      "saveProfile",
      { nickname: "n", tags: [], pair: [1, 2], point: [3] },
      saveProfile,
    );
    expect(short.received).toStrictEqual({ nickname: "n", tags: [], pair: [1, 2], point: [3] });
  });

  it("3. overlapping unions keep every field; discriminated unions name their tags", async () => {
    const args = {
      who: { name: "Ada", email: "ada@example.com" },
      shape: { kind: "square", side: 2 },
      event: { id: "e1", sighting: { when: "2024-05-01T10:00:00.000Z", note: "owl" } },
    };
    const { received, decoded } = await roundTrip("notify", args, notify);
    expect(received).toStrictEqual({
      ...args,
      event: { id: "e1", sighting: { when: new Date("2024-05-01T10:00:00.000Z"), note: "owl" } },
    });
    expect(decoded).toStrictEqual(received);
    const small = await roundTrip(
      "notify",
      { ...args, who: { email: "b@c.d" }, event: { id: "e2" } },
      notify,
    );
    expect(small.received).toMatchObject({ who: { email: "b@c.d" }, event: { id: "e2" } });
    const bad = registry.notify.args.safeParse({ ...args, shape: { kind: "hexagon", side: 1 } });
    expect(bad.error?.issues[0]?.message).toBe(
      "Invalid discriminator value. Expected 'circle' | 'square'",
    );
  });

  it("4. readonly arrays, tuples and Readonly<T>", async () => {
    const args = { tags: ["a", "b"], scores: [1], origin: { x: 1, y: 2 }, pair: ["p", 1] } as const;
    const { received, decoded } = await roundTrip("tagAll", args, tagAll);
    expect(received).toStrictEqual(args);
    expect(decoded).toStrictEqual(["a", "b"]);
  });

  it("5. tuples with a leading or middle rest, and optional elements", async () => {
    const args = {
      last: ["a", "b", 3],
      middle: ["s", 1, 2, true],
      tail: ["t", 1, 2],
      optional: [1],
    };
    const { received, decoded } = await roundTrip("plot", args, plot);
    expect(received).toStrictEqual(args);
    expect(decoded).toStrictEqual(args);
    const bad = registry.plot.args.safeParse({ ...args, last: [1, "a"] });
    expect(bad.error?.issues.map((i) => i.path.join("."))).toEqual(["last.0", "last.1"]);
    expect(registry.plot.args.safeParse({ ...args, last: [] }).success).toBe(false);
  });

  it("6. a default parameter value makes the arguments optional; the actor applies it", async () => {
    const { received, decoded } = await roundTrip("resize", undefined, resize);
    expect(received).toBeUndefined();
    expect(decoded).toBe(100);
    expect((await roundTrip("resize", { width: 7 }, resize)).decoded).toBe(7);
  });

  it("7. class private fields are not part of the message", async () => {
    const { received, decoded } = await roundTrip("audit", new Account("acc-1", "hush"), audit);
    expect(received).toStrictEqual({ id: "acc-1" });
    expect(decoded).toBe("acc-1");
  });

  it("8. brands check their base type, template literals their pattern", async () => {
    const args = {
      user: "u-1",
      amount: 250,
      key: "user_42",
      version: "v1.2",
      level: "level-high",
      color: "teal",
    } as unknown as Charge;
    const { received, decoded } = await roundTrip("chargeUser", args, chargeUser);
    expect(received).toStrictEqual(args);
    expect(decoded).toBe("u-1");
    for (const wrong of [
      { user: 1 },
      { key: "usr_42" },
      { version: "v1" },
      { level: "level-mid" },
    ]) {
      expect(
        registry.chargeUser.args.safeParse({ ...args, ...wrong }).success,
        JSON.stringify(wrong),
      ).toBe(false);
    }
  });

  it("9. ambient namespaces and declared modules resolve as the project's tsc resolves them", async () => {
    const args = {
      settings: { theme: "dark", fontSize: 12 },
      invoice: { total: 3, lines: ["x"] },
    } as const;
    const { received, decoded } = await roundTrip("applySettings", args, applySettings);
    expect(received).toStrictEqual(args);
    expect(decoded).toStrictEqual(args.settings);
    expect(
      registry.applySettings.args.safeParse({ ...args, settings: { theme: "blue", fontSize: 1 } })
        .success,
    ).toBe(false);
  });
});
