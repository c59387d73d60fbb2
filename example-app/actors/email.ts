import { appendFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ActorContext } from "repid";
import { router } from "./router.js";

/** Where sent emails go: a JSON-lines outbox standing in for an SMTP server. */
export const OUTBOX =
  process.env["REPID_EXAMPLE_OUTBOX"] ?? join(tmpdir(), "repid-example-outbox.jsonl");

/** `send_email`'s arguments in its first version (schema b850b2e4fc34): a plain text. */
interface EmailV0 {
  to: string;
  text: string;
}

/**
 * Async I/O actor: "sends" an email by appending it to the outbox. Messages still queued by
 * producers of its first version are upcast: their text becomes the body, under a default subject.
 */
export const sendEmail = router.actor(
  {
    name: "send_email",
    queue: "emails",
    timeout: "5s",
    storeResult: true,
    upcast: {
      b850b2e4fc34: (old: EmailV0) => ({ to: old.to, subject: "(no subject)", body: old.text }),
    },
  },
  async (email: { to: string; subject: string; body: string }, context: ActorContext) => {
    const line = `${JSON.stringify({ id: context.jobId, ...email })}\n`;
    await appendFile(OUTBOX, line);
    return { messageId: context.jobId, bytes: Buffer.byteLength(line) };
  },
);
