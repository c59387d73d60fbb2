/**
 * Compile-time tests of the flow-control actor options (issue 26): `concurrency` and `rateLimit`
 * as actor files write them, and as the generated registry carries them
 * (test/codegen/expected/limits.ts). Type-checked, never run; the wrong calls without
 * `@ts-expect-error` are in fixtures/limits-misuse.ts, where each must fail.
 */
import { Router, Worker, type KeyPath } from "repid";
import { expectTypeOf } from "vitest";
import { registry, type SendInvoiceParsedArgs } from "../codegen/expected/limits.js";

interface Args {
  account: { id: string; name?: string | null; score: number };
  full: boolean;
  tags: string[];
}

async function syncAccount(args: Args): Promise<string> {
  return args.account.id;
}

export function rightOptions(router: Router, worker: Worker): void {
  router.actor({ concurrency: { limit: 2, key: "account.id" } }, syncAccount);
  router.actor({ concurrency: 3 }, syncAccount);
  router.actor({ concurrency: { limit: 1 } }, syncAccount);
  // Optional and nullable leaves of a string, and number leaves, are keys.
  router.actor({ concurrency: { limit: 1, key: "account.name" } }, syncAccount);
  router.actor({ rateLimit: { limit: 100, per: "1m", key: "account.score" } }, syncAccount);
  router.actor({ rateLimit: { limit: 5, per: 1500 } }, syncAccount);
  worker.actor({ concurrency: { limit: 2, key: "account.id" } }, syncAccount);
  // An actor whose arguments are not typed takes any key.
  router.actor({ concurrency: { limit: 1, key: "any.path" } }, async function loose() {});
}

export function wrongOptions(router: Router): void {
  // @ts-expect-error a typo in the key path
  router.actor({ concurrency: { limit: 2, key: "acount.id" } }, syncAccount);
  // @ts-expect-error the key ends at a boolean
  router.actor({ concurrency: { limit: 2, key: "full" } }, syncAccount);
  // @ts-expect-error the key ends at an object
  router.actor({ rateLimit: { limit: 2, per: "1s", key: "account" } }, syncAccount);
}

export function keyPaths(): void {
  expectTypeOf<KeyPath<Args>>().toEqualTypeOf<"account.id" | "account.name" | "account.score">();
  expectTypeOf<KeyPath<{ a: { b: string } | undefined }>>().toEqualTypeOf<"a.b">();
}

export function generatedRegistry(): void {
  expectTypeOf(registry.sync_account.concurrency).toEqualTypeOf<{
    readonly limit: 2;
    readonly key: "account.id";
  }>();
  expectTypeOf(registry.sync_account.rateLimit.per).toEqualTypeOf<"1m">();
  expectTypeOf(registry.resize.concurrency).toEqualTypeOf<3>();
  expectTypeOf<KeyPath<SendInvoiceParsedArgs>>().toEqualTypeOf<"tenant.id" | "tenant.region">();
  // A key at a Date is none: it travels as a string, but the actor receives a Date.
  expectTypeOf<"issuedAt">().not.toExtend<KeyPath<SendInvoiceParsedArgs>>();
}
