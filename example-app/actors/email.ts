import { appendFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ActorContext } from "repid";
import { router } from "./router.js";

/** Where sent emails go: a JSON-lines outbox standing in for an SMTP server. */
export const OUTBOX =
  process.env["REPID_EXAMPLE_OUTBOX"] ?? join(tmpdir(), "repid-example-outbox.jsonl");

/** Async I/O actor: "sends" an email by appending it to the outbox. */
export const sendEmail = router.actor(
  { name: "send_email", queue: "emails", timeout: "5s", storeResult: true },
  async (email: { to: string; subject: string; body: string }, context: ActorContext) => {
    const line = `${JSON.stringify({ id: context.jobId, ...email })}\n`;
    await appendFile(OUTBOX, line);
    return { messageId: context.jobId, bytes: Buffer.byteLength(line) };
  },
);
