import { describe, expect, it } from "vitest";
import { Generator, ScanFailure } from "../../codegen/generate.js";
import { CodegenError } from "../../src/core/errors.js";
import { options, render } from "./helpers.js";

const dir = "test/codegen/fixtures/errors";

async function scanErrors(file: string, extra: { allowAny?: boolean } = {}): Promise<string[]> {
  try {
    await render([`${dir}/${file}`], "test/codegen/expected/none.ts", extra);
  } catch (error) {
    expect(error).toBeInstanceOf(ScanFailure);
    const errors = (error as ScanFailure).errors;
    for (const e of errors) expect(e).toBeInstanceOf(CodegenError);
    return errors.map((e) => e.message);
  }
  throw new Error(`expected ${file} to fail`);
}

describe("codegen errors, located at file:line:col", () => {
  it("rejects a function in the arguments, at the property", async () => {
    expect(await scanErrors("unsupported-function.err.ts")).toEqual([
      `${dir}/unsupported-function.err.ts:5:62: actor "withCallback": args.onDone is a function, which cannot be sent in a message`,
    ]);
  });

  it("checks the progress type of a `JobContext<P>` like the arguments, at the property", async () => {
    expect(await scanErrors("progress-function.err.ts")).toEqual([
      `${dir}/progress-function.err.ts:5:84: actor "reporter": progress.onDone is a function, which cannot be sent in a message`,
    ]);
  });

  it("rejects a class instance with methods, a bigint, and a function result", async () => {
    expect(await scanErrors("class-instance.err.ts")).toEqual([
      `${dir}/class-instance.err.ts:10:42: actor "charge": args is an instance of class \`Money\`, whose methods do not survive JSON`,
    ]);
    expect(await scanErrors("bigint.err.ts")).toEqual([
      `${dir}/bigint.err.ts:3:47: actor "big": args.n is a bigint, which is not a JSON value`,
    ]);
    expect(await scanErrors("result-function.err.ts")).toEqual([
      `${dir}/result-function.err.ts:3:60: actor "makeCallback": result is a function, which cannot be sent in a message`,
    ]);
  });

  it("rejects `any` unless allowed, and then emits z.any() with a warning, never silently", async () => {
    expect(await scanErrors("any.err.ts")).toEqual([
      `${dir}/any.err.ts:4:49: actor "loose": args.payload is \`any\`, which cannot be validated; give it a type, or pass --allow-any`,
    ]);
    const generator = new Generator(
      options([`${dir}/any.err.ts`], "test/codegen/expected/none.ts", { allowAny: true }),
    );
    const rendered = await generator.render();
    expect(rendered.files[0]!.content).toContain("payload: z.any()");
    expect(rendered.model.warnings).toEqual([
      {
        location: { file: `${dir}/any.err.ts`, line: 4, column: 49 },
        message:
          'actor "loose": args.payload is `any`: accepted unchecked (z.any()) because of --allow-any',
      },
    ]);
  });

  it("reports every unsupported type of every actor in one run, each at its own place (issue 17, 12)", async () => {
    expect(await scanErrors("many.err.ts")).toEqual([
      `${dir}/many.err.ts:6:3: actor "first": args.job.id is a bigint, which is not a JSON value`,
      `${dir}/many.err.ts:7:3: actor "first": args.job.run is a function, which cannot be sent in a message`,
      `${dir}/many.err.ts:10:29: actor "first": result is a function, which cannot be sent in a message`,
      `${dir}/many.err.ts:12:3: actor "first": args.tag is a symbol, which is not a JSON value`,
      `${dir}/many.err.ts:17:29: actor "second": result is a function, which cannot be sent in a message`,
      `${dir}/many.err.ts:17:44: actor "second": args.when is a \`Map\`, which is not a plain JSON value`,
    ]);
  });

  it("names an unresolved type and the import or name that failed, even with --allow-any (issue 17, 9)", async () => {
    const expected = [
      `${dir}/unresolved.err.ts:5:3: actor "lost": args.a has type \`Missing\`, which does not resolve: Cannot find module 'no-such-module' or its corresponding type declarations. (${dir}/unresolved.err.ts:2:30)`,
      `${dir}/unresolved.err.ts:6:3: actor "lost": args.b has type \`Undeclared.Thing\`, which does not resolve: Cannot find namespace 'Undeclared'. (${dir}/unresolved.err.ts:6:6)`,
    ];
    expect(await scanErrors("unresolved.err.ts")).toEqual(expected);
    expect(await scanErrors("unresolved.err.ts", { allowAny: true })).toEqual(expected);
  });

  it("refuses an array that may hold both null and undefined (they read alike after JSON)", async () => {
    expect(await scanErrors("null-and-undefined.err.ts")).toEqual([
      `${dir}/null-and-undefined.err.ts:3:49: actor "slots": args.values[] may be both \`null\` and \`undefined\`: JSON writes \`undefined\` in an array as \`null\`, so the actor could not tell them apart; use one of them`,
    ]);
  });

  it("refuses an interface that extends Array and adds members, in one error (JSON carries only the elements)", async () => {
    expect(await scanErrors("array-members.err.ts")).toEqual([
      `${dir}/array-members.err.ts:7:50: actor "tagAll": args.tags is \`Tagged\`, an array with members of its own, which JSON does not carry; extend Array without adding members, or use an object`,
    ]);
  });

  it("names both places of a duplicate actor name", async () => {
    expect(await scanErrors("duplicate-name.err.ts")).toEqual([
      `${dir}/duplicate-name.err.ts:7:1: duplicate actor name "report": also defined at ${dir}/duplicate-name.err.ts:6:1`,
    ]);
  });

  it("names both actors that map to the same client property", async () => {
    expect(await scanErrors("same-property.err.ts")).toEqual([
      `${dir}/same-property.err.ts:6:1: actor "sendEmail" maps to client property "sendEmail", as does actor "send_email" at ${dir}/same-property.err.ts:5:1`,
    ]);
  });

  it("reports a file that does not parse", async () => {
    expect(await scanErrors("syntax.err.ts")).toEqual([`${dir}/syntax.err.ts:5:55: ';' expected.`]);
  });

  it("needs options it can read statically, and a name", async () => {
    expect(await scanErrors("options-not-literal.err.ts")).toEqual([
      `${dir}/options-not-literal.err.ts:5:29: actor option "queue" must be a string literal (or a constant of one) so repid-gen can read it`,
    ]);
    expect(await scanErrors("unnamed.err.ts")).toEqual([
      `${dir}/unnamed.err.ts:3:20: cannot tell the actor's name: give the function a name or pass { name: "..." }`,
    ]);
  });

  it("rejects a limit's key that is no path into the arguments to a string or a number (issue 26)", async () => {
    const f = `${dir}/limit-keys.err.ts`;
    expect(await scanErrors("limit-keys.err.ts")).toEqual([
      `${f}:17:60: concurrency.key "acount.id": the arguments have no property "acount" (they have: account, full, tags, issuedAt)`,
      `${f}:18:75: rateLimit.key "account.ide": account has no property "ide" (it has: id, name, active)`,
      `${f}:19:63: concurrency.key "full": full is a boolean, not a string or a number`,
      `${f}:20:62: concurrency.key "account": account is an object, not a string or a number`,
      `${f}:21:61: concurrency.key "tags": tags is an array, not a string or a number`,
      `${f}:22:65: concurrency.key "tags.length": tags is an array; a key path cannot go into an array`,
      `${f}:23:66: concurrency.key "account.id.length": account.id is a string, not an object`,
      `${f}:24:60: concurrency.key "issuedAt": issuedAt is a Date, not a string or a number`,
      `${f}:25:60: concurrency.key "account..id": expected a dotted path of property names such as "account.id"`,
      `${f}:26:63: actor option "concurrency.key" must be a string literal (or a constant of one) so repid-gen can read it`,
      `${f}:27:46: concurrency.key "id": the actor takes no arguments`,
      `${f}:28:63: concurrency.key "owner.secret": owner has no property "secret" (it has: id)`,
      `${f}:29:63: concurrency.key "meta.id": meta is \`unknown\`, not an object`,
    ]);
  });

  it("rejects limits it cannot read or repid would refuse: not literals, bad limits and windows (issue 26)", async () => {
    const f = `${dir}/limit-values.err.ts`;
    expect(await scanErrors("limit-values.err.ts")).toEqual([
      `${f}:12:46: actor option "concurrency" must be a number literal or an object literal so repid-gen can read it`,
      `${f}:13:43: actor option "concurrency" must be a whole number from 1 to 1000000, not 0`,
      `${f}:14:56: actor option "concurrency.limit" must be a whole number from 1 to 1000000, not 2.5`,
      `${f}:15:46: actor option "concurrency" needs "limit"`,
      `${f}:16:58: actor option "concurrency" has no property "burst" (it takes limit, key)`,
      `${f}:17:42: actor option "rateLimit" needs "per"`,
      `${f}:18:61: actor option "rateLimit.per" must be a duration (milliseconds, or a string such as "1m" or "1h30m"), not "1 minute"`,
      `${f}:19:62: actor option "rateLimit.per" must be at least 1 ms, not 0`,
      `${f}:20:45: actor option "rateLimit" must be an object literal so repid-gen can read it`,
      `${f}:21:45: actor option "rateLimit" must list plain properties (limit, per, key), without spreads, methods or computed names`,
      `${f}:22:53: actor option "rateLimit.limit" must be a whole number from 1 to 1000000, not 2000000`,
    ]);
  });

  it("reports every problem of a run, sorted by place", async () => {
    try {
      await render([`${dir}/bigint.err.ts`, `${dir}/any.err.ts`], "test/codegen/expected/none.ts");
      expect.unreachable();
    } catch (error) {
      expect((error as ScanFailure).errors.map((e) => e.file)).toEqual([
        `${dir}/any.err.ts`,
        `${dir}/bigint.err.ts`,
      ]);
    }
  });
});
