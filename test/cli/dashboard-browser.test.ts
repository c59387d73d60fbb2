/**
 * The dashboard end to end in headless Chromium (Debian's, driven by playwright-core), served
 * in-process on the in-memory broker with a real Worker on the same connection.
 */
import { mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveDashboard, type RunningDashboard } from "../../src/cli/dashboard/serve.js";
import { mountDashboard } from "../../src/cli/dashboard/handler.js";
import {
  Admin,
  Connection,
  InMemoryMessageBroker,
  Job,
  Repid,
  Worker,
  silentLogger,
  type ActorContext,
} from "../../src/index.js";
import { registry } from "./fixtures/registry.js";
import type { JobUpdate, Message } from "../../src/brokers/broker.js";
import { FLOW_HEADER } from "../../src/core/flow-plan.js";
import { bury, holdTwo, outgoing, take } from "./helpers.js";
import { describeRedis, testBroker } from "../brokers/redis-env.js";

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
];

let broker: InMemoryMessageBroker;
let connection: Connection;
let admin: Admin;
let dashboard: RunningDashboard;
let browser: Browser;
let page: Page;
let worker: Worker;
let workerDone: Promise<unknown>;
let started!: () => void;
const running = new Promise<void>((resolve) => (started = resolve));
let aborted!: (reason: unknown) => void;
const abortReason = new Promise<unknown>((resolve) => (aborted = resolve));

beforeAll(async () => {
  broker = new InMemoryMessageBroker();
  connection = new Connection(broker, { logger: silentLogger });
  admin = new Admin(connection);
  await connection.connect();
  for (const queue of ["emails", "reports", "default"]) await broker.declareQueue(queue);
  await bury(broker, "emails", ["d1", "d2"]);
  await broker.enqueue([
    outgoing("emails", "r1"),
    outgoing("emails", "later", { executeAt: Date.now() + 3_600_000 }),
  ]);

  // Renewals (a third of the lease) carry the cancellation; a longer lease keeps a loaded
  // machine from losing it, which would abort the job for another reason.
  worker = new Worker({ leaseTime: "3s", handleSignals: [] });
  worker.actor(async function long_task(_args: unknown, ctx: ActorContext) {
    started();
    const reason = await new Promise((resolve) =>
      ctx.signal.addEventListener("abort", () => resolve(ctx.signal.reason)),
    );
    aborted(reason);
    throw reason;
  });
  const app = new Repid(connection);
  workerDone = app.magic(async () => {
    await new Job("long_task", { id: "long-1", retries: 3 }).enqueue();
    return worker.run();
  });
  await running;

  dashboard = await serveDashboard({ connection, registry, port: 0, sampleEveryMs: 100 });
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
});

afterAll(async () => {
  await browser?.close();
  await dashboard?.close();
  worker?.stop();
  await workerDone;
  await connection.disconnect();
});

/** Waits until the element at `selector` has exactly `text`. */
async function shows(selector: string, text: string, on: Page = page): Promise<void> {
  // Runs in the page, where `document` exists (this file compiles without the DOM types).
  type InPage = { document: { querySelector(s: string): { textContent: string | null } | null } };
  await on.waitForFunction(
    ([s, t]) => (globalThis as unknown as InPage).document.querySelector(s!)?.textContent === t,
    [selector, text] as const,
  );
}

const count = (queue: string, state: string) =>
  `tr[data-queue="${queue}"] td[data-count="${state}"]`;

describe("the dashboard in a browser", () => {
  it("shows each queue's counts and its backlog chart", async () => {
    await page.goto(dashboard.url);
    await shows(count("emails", "ready"), "1");
    await shows(count("emails", "delayed"), "1");
    await shows(count("emails", "dead"), "2");
    await shows(count("default", "running"), "1");
    await page.waitForSelector('tr[data-queue="emails"] svg.spark polyline', { state: "attached" });
  });

  it("lists dead letters with their error and stack; Replay moves one to ready", async () => {
    await page.click(`${count("emails", "dead")} a`);
    const row = 'tr[data-job="d1"][data-state="dead"]';
    await page.waitForSelector(row);
    expect(await page.textContent(`${row} .err`)).toContain(
      "[SMTP_550] SmtpError: mailbox d1 unavailable",
    );
    await page.click(`${row} summary`);
    expect(await page.textContent(`${row} pre`)).toContain("at send (mailer.ts:12:7)");
    await page.click(`${row} button:text("Replay")`);
    await shows(count("emails", "dead"), "1");
    await shows(count("emails", "ready"), "2");
    expect(await admin.job("d1", "emails")).toMatchObject({
      state: "ready",
      message: { attempt: 1 },
    });
    await page.waitForSelector(row, { state: "detached" });
  });

  it("finds a job by id", async () => {
    await page.fill("#lookup-id", "d2");
    await page.click("#lookup-form button");
    await page.waitForSelector('#job-view[data-job="d2"]');
    const found = await page.textContent("#job-view dl");
    expect(found).toContain("statedead");
    expect(found).toContain("SmtpError: mailbox d2 unavailable");
    await page.fill("#lookup-id", "nobody");
    await page.click("#lookup-form button");
    await shows("#job-view .err", 'job "nobody" not found');
  });

  it("shows a running flow step's last progress and its place in the flow, as text", async () => {
    // A step as flow(...).enqueue() writes it, with markup in its flow id and its progress.
    const flowId = "<i>f2</i>";
    const header = {
      f: flowId,
      i: 0,
      b: 1,
      n: 2,
      bq: ["reports", "reports"],
      ba: ["resize", "resize"],
      k: 60_000,
      next: [{ a: "zip_<b>files</b>", q: "reports" }],
    };
    await broker.enqueue([
      outgoing("reports", `${flowId}~0.1`, {
        topic: "resize",
        headers: { [FLOW_HEADER]: JSON.stringify(header) },
      }),
    ]);
    const [step] = await take(broker, "reports", 1);
    expect(step!.message.id).toBe(`${flowId}~0.1`);
    const progress = { done: 2, note: "<img src=x onerror=alert(1)>" };
    const update = { state: "running", attempt: 1, progress: JSON.stringify(progress), at: 1 };
    await broker.publishUpdate("reports", step!.message.id, update as JobUpdate, 60_000);

    await page.fill("#lookup-id", step!.message.id);
    await page.click("#lookup-form button");
    await page.waitForSelector(`#job-view[data-job="${step!.message.id}"]`);
    expect(await page.textContent("#job-view dd.progress")).toBe(JSON.stringify(progress));
    expect(await page.textContent("#job-view dd.flow")).toBe("<i>f2</i> step 0.1");
    // The steps it knows of: its stage's branches and the stage after it, where each stands.
    expect(await page.textContent("#job-view dd.flow-steps")).toBe(
      "0.0 resize pending, 0.1 resize running, 1 zip_<b>files</b> pending",
    );
    expect(
      await page
        .locator("#job-view dd.progress img, #job-view dd.flow i, #job-view dd.flow-steps b")
        .count(),
    ).toBe(0);
    // Its labels, in the order the CLI prints them.
    const labels = await page.locator("#job-view dt").allTextContents();
    expect(labels.slice(labels.indexOf("attempt"), labels.indexOf("attempt") + 4)).toEqual([
      "attempt",
      "progress",
      "flow",
      "steps",
    ]);
    await broker.settle([{ kind: "ack", delivery: step! }]);
  });

  it("Cancel on a running job aborts ctx.signal on its worker; it ends dead-lettered CANCELLED", async () => {
    await page.click(`${count("default", "running")} a`);
    await page.click('tr[data-job="long-1"][data-state="running"] button:text("Cancel")');
    const reason = await abortReason;
    expect(reason).toMatchObject({ name: "JobCancelledError", code: "CANCELLED" });
    await shows(count("default", "running"), "0");
    await shows(count("default", "dead"), "1");
    await page.click(`${count("default", "dead")} a`);
    await shows(
      'tr[data-job="long-1"] .err-text',
      "[CANCELLED] JobCancelledError: The job was cancelled by an operator while it ran",
    );
    expect(await broker.counts("default")).toEqual({ ready: 0, delayed: 0, running: 0, dead: 1 });
  });

  it("shows the registry's actors with their schema and enqueues what the schema accepts", async () => {
    const form = '[data-actor="send_email"]';
    expect(await page.textContent(`${form} pre`)).toContain('"format": "email"');
    await page.fill(`${form} textarea`, '{"to": "ada@example.com"}');
    await page.click(`${form} button`);
    await shows(`${form} .outcome li`, "subject: required");
    // The browser's check knows no formats: the server's zod schema rejects this one.
    await page.fill(`${form} textarea`, '{"to": "ada", "subject": "hi"}');
    await page.click(`${form} button`);
    await shows(`${form} .outcome li`, "to: Invalid email address");
    expect((await broker.counts("emails")).ready).toBe(2);
    await page.fill(`${form} textarea`, '{"to": "ada@example.com", "subject": "hi"}');
    await page.click(`${form} button`);
    const id = await (
      await page.waitForSelector(`${form} [data-enqueued]`)
    ).getAttribute("data-enqueued");
    expect(await admin.job(id!, "emails")).toMatchObject({
      state: "ready",
      message: { topic: "send_email" },
    });
    await shows(count("emails", "ready"), "3");
  });

  it("lists schedules and removes one", async () => {
    await new Job("nightly_report", { id: "nightly", queue: "reports", cron: "0 3 * * *" }).enqueue(
      {
        connection,
      },
    );
    await page.click('tr[data-schedule="nightly"] button:text("Remove")');
    await page.waitForSelector('tr[data-schedule="nightly"]', { state: "detached" });
    expect(await admin.schedules()).toEqual([]);
  });

  it("pauses and resumes a queue", async () => {
    await page.click('tr[data-queue="reports"] button:text("Pause")');
    await shows('tr[data-queue="reports"] .paused', "paused");
    expect((await admin.queues()).find((q) => q.name === "reports")?.paused).toBe(true);
    await page.click('tr[data-queue="reports"] button:text("Resume")');
    await page.waitForSelector('tr[data-queue="reports"] .paused', { state: "detached" });
    expect((await admin.queues()).find((q) => q.name === "reports")?.paused).toBe(false);
  });

  it("saves a screenshot", async () => {
    await page.click(`${count("emails", "dead")} a`);
    await page.waitForSelector('tr[data-job="d2"][data-state="dead"]');
    mkdirSync("test-output", { recursive: true });
    await page.screenshot({ path: "test-output/dashboard.png", fullPage: true });
  });
});

describe("the dashboard beyond loopback", () => {
  it("refuses to listen beyond loopback without a token", async () => {
    await expect(serveDashboard({ connection, host: "127.0.0.2", port: 0 })).rejects.toMatchObject({
      code: "INVALID_OPTION",
      message: expect.stringContaining(
        "binding 127.0.0.2 makes the dashboard reachable beyond loopback",
      ),
    });
  });

  it("with a token, refuses every request without it; ?token= sets a cookie the page then uses", async () => {
    const guarded = await serveDashboard({
      connection,
      host: "127.0.0.2",
      port: 0,
      token: "s3cret",
    });
    try {
      const api = `${guarded.url}api/queues`;
      expect((await fetch(api)).status).toBe(401);
      expect((await fetch(guarded.url)).status).toBe(401);
      expect((await fetch(api, { headers: { Authorization: "Bearer wrong" } })).status).toBe(401);
      const ok = await fetch(api, { headers: { Authorization: "Bearer s3cret" } });
      expect(ok.status).toBe(200);
      expect(
        ((await ok.json()) as { queues: { name: string }[] }).queues.map(
          (q: { name: string }) => q.name,
        ),
      ).toEqual(["default", "emails", "reports"]);
      const post = (headers: Record<string, string>) =>
        fetch(`${guarded.url}api/queues/reports/pause`, { method: "POST", headers, body: "{}" });
      expect(
        (await post({ Authorization: "Bearer s3cret", "Content-Type": "text/plain" })).status,
      ).toBe(403);
      const foreign = {
        Authorization: "Bearer s3cret",
        "Content-Type": "application/json",
        Origin: "http://evil.example",
      };
      expect((await post(foreign)).status).toBe(403);
      expect((await admin.queues()).find((q) => q.name === "reports")?.paused).toBe(false);

      const other = await browser.newPage();
      const refused = await other.goto(guarded.url);
      expect(refused?.status()).toBe(401);
      expect(await other.textContent("body")).toContain("token required");
      await other.goto(`${guarded.url}?token=s3cret`);
      expect(other.url()).toBe(guarded.url);
      await shows(count("emails", "dead"), "1", other);
      await other.close();
    } finally {
      await guarded.close();
    }
  });

  it("mounted on an app's server reachable beyond loopback without a token, refuses its requests and leaves the app's alone", async () => {
    const server: Server = createServer((_req, res) => res.end("the app\n"));
    const mounted = mountDashboard(server, { connection, basePath: "/repid" });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.2", resolve));
    const base = `http://127.0.0.2:${(server.address() as AddressInfo).port}`;
    try {
      const refused = await fetch(`${base}/repid/api/queues`);
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { error: string }).error).toContain(
        "reachable beyond loopback: it needs a token",
      );
      expect(await (await fetch(`${base}/elsewhere`)).text()).toBe("the app\n");
    } finally {
      mounted.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

/** The parts of the page's window that the layout probe uses (this file has no DOM types). */
interface Rect {
  readonly left: number;
  readonly right: number;
  readonly top: number;
  readonly bottom: number;
  readonly width: number;
  readonly height: number;
}
interface InPageElement {
  readonly tagName: string;
  readonly id: string;
  readonly parentElement: InPageElement | null;
  readonly clientLeft: number;
  readonly clientTop: number;
  readonly clientWidth: number;
  readonly clientHeight: number;
  readonly scrollWidth: number;
  readonly textContent: string | null;
  getBoundingClientRect(): Rect;
  getClientRects(): { readonly length: number };
  closest(selector: string): InPageElement | null;
  querySelector(selector: string): InPageElement | null;
  querySelectorAll(selector: string): Iterable<InPageElement>;
}
interface InPageWindow {
  readonly document: {
    readonly documentElement: InPageElement;
    querySelector(selector: string): InPageElement | null;
    querySelectorAll(selector: string): Iterable<InPageElement>;
  };
  getComputedStyle(element: InPageElement): {
    readonly overflowX: string;
    readonly overflowY: string;
    readonly visibility: string;
    readonly lineHeight: string;
  };
}

/**
 * What is wrong with the page's layout, as geometry: a horizontal scrollbar on the document; a
 * control (button, input, summary) reaching past the viewport's sides, past its table cell, or
 * past an ancestor that clips (overflow other than visible); a section whose content is wider
 * than the section; an element of a section reaching past the section's sides.
 */
async function layoutProblems(on: Page): Promise<string[]> {
  // No named functions inside: the page gets this function's source as it is.
  return on.evaluate(() => {
    const w = globalThis as unknown as InPageWindow;
    const problems: string[] = [];
    const root = w.document.documentElement;
    const slack = 0.5;
    // An element past a section's sides is reported, not each of its descendants.
    const reported = new Set<InPageElement>();
    if (root.scrollWidth > root.clientWidth) {
      problems.push(`document scrolls sideways: ${root.scrollWidth} > ${root.clientWidth}`);
    }
    for (const control of w.document.querySelectorAll("button, input, textarea, summary")) {
      if (control.getClientRects().length === 0) continue;
      if (w.getComputedStyle(control).visibility === "hidden") continue;
      const name = `${control.tagName.toLowerCase()} "${(control.textContent ?? "").trim()}"${control.id ? `#${control.id}` : ""}`;
      const box = control.getBoundingClientRect();
      if (box.left < -slack || box.right > root.clientWidth + slack) {
        problems.push(
          `${name} [${box.left}, ${box.right}] leaves the viewport (${root.clientWidth})`,
        );
      }
      const cell = control.closest("td, th");
      if (cell) {
        const c = cell.getBoundingClientRect();
        if (box.left < c.left - slack || box.right > c.right + slack) {
          problems.push(
            `${name} [${box.left}, ${box.right}] leaves its cell [${c.left}, ${c.right}]`,
          );
        }
      }
      for (let up = control.parentElement; up; up = up.parentElement) {
        const style = w.getComputedStyle(up);
        if (style.overflowX === "visible" && style.overflowY === "visible") continue;
        const b = up.getBoundingClientRect();
        const left = b.left + up.clientLeft;
        const top = b.top + up.clientTop;
        if (
          box.left < left - slack ||
          box.right > left + up.clientWidth + slack ||
          box.top < top - slack ||
          box.bottom > top + up.clientHeight + slack
        ) {
          problems.push(`${name} is clipped by ${up.tagName.toLowerCase()}#${up.id}`);
        }
      }
    }
    for (const section of w.document.querySelectorAll("main section")) {
      if (section.scrollWidth > section.clientWidth) {
        problems.push(
          `section#${section.id} scrolls sideways: ${section.scrollWidth} > ${section.clientWidth}`,
        );
      }
      const s = section.getBoundingClientRect();
      const left = s.left + section.clientLeft;
      const right = left + section.clientWidth;
      for (const inner of section.querySelectorAll("*")) {
        if (inner.getClientRects().length === 0) continue;
        if (inner.parentElement && reported.has(inner.parentElement)) {
          reported.add(inner);
          continue;
        }
        const b = inner.getBoundingClientRect();
        if (b.left < left - slack || b.right > right + slack) {
          reported.add(inner);
          problems.push(
            `${inner.tagName.toLowerCase()} "${(inner.textContent ?? "").slice(0, 40)}" [${b.left}, ${b.right}] leaves section#${section.id} [${left}, ${right}]`,
          );
        }
      }
    }
    return problems;
  });
}

/** The width of the element at `selector` and its height in lines of its own line height. */
async function extent(on: Page, selector: string): Promise<{ width: number; lines: number }> {
  return on.evaluate((s) => {
    const w = globalThis as unknown as InPageWindow;
    const el = w.document.querySelector(s);
    if (!el) throw new Error(`no ${s}`);
    const box = el.getBoundingClientRect();
    return { width: box.width, lines: box.height / parseFloat(w.getComputedStyle(el).lineHeight) };
  }, selector);
}

/** The job view's fields, label to text. */
async function jobFields(on: Page): Promise<Record<string, string>> {
  return on.evaluate(() => {
    const w = globalThis as unknown as InPageWindow;
    const out: Record<string, string> = {};
    for (const dt of w.document.querySelectorAll("#job-view dt")) {
      const dd = dt.closest("div")?.querySelector("dd") ?? null;
      out[(dt.textContent ?? "").trim()] = (dd?.textContent ?? "").trim();
    }
    return out;
  });
}

const LONG_ERROR =
  "The remote mail server at mx3.mail-relay.example.net refused the message after the DATA " +
  "command because the sender's domain has no valid SPF record and the recipient's mailbox " +
  "policy rejects unauthenticated bulk mail; see " +
  "https://mail-relay.example.net/errors/554/5.7.1?policy=spf-strict&recipient=someone-with-a-long-address%40example.org " +
  "for the full explanation and what the sender can do about it";
const LONG_ID = "9f1c2e7a5b3d4c6e8a0b1c2d3e4f5a6b";

describe("the dashboard's first view, its layout from 1024 to 1920 px, its job view (issue 24)", () => {
  let lb: InMemoryMessageBroker;
  let lconn: Connection;
  let ldash: RunningDashboard;
  let lpage: Page;

  /** Dead-letters these messages (the queue holds nothing ready before). */
  async function deadLetters(
    queue: string,
    letters: {
      id: string;
      error: { name: string; message: string; stack?: string; code?: string };
      extra?: Partial<Message>;
    }[],
  ): Promise<void> {
    await lb.enqueue(letters.map((l) => outgoing(queue, l.id, l.extra)));
    const taken = await take(lb, queue, letters.length);
    expect(taken.map((d) => d.message.id)).toEqual(letters.map((l) => l.id));
    await lb.settle(
      taken.map((delivery, i) => ({ kind: "dead" as const, delivery, error: letters[i]!.error })),
    );
  }

  beforeAll(async () => {
    lb = new InMemoryMessageBroker();
    lconn = new Connection(lb, { logger: silentLogger });
    await lconn.connect();
    const longQueue = "billing-invoices-eu-west-1-reconciliation-nightly";
    for (const queue of ["alpha", longQueue, "mailer", "zeta"]) await lb.declareQueue(queue);
    // mailer: 4 dead + 1 running + 1 ready + 1 delayed = 7, as many as zeta's 7 ready: mailer
    // wins the tie by name; alpha (first by name) has 2, the long-named queue none.
    await deadLetters("mailer", [
      {
        id: LONG_ID,
        error: {
          name: "SmtpError",
          code: "SMTP_554",
          message: LONG_ERROR,
          stack: `SmtpError: ${LONG_ERROR}\n    at relay (smtp.ts:88:13)\n    at deliver (mailer.ts:12:7)`,
        },
        extra: {
          headers: {
            traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            tenant: "acme",
          },
        },
      },
      {
        id: "d-xss",
        error: { name: "Error", message: '<img src=x onerror="globalThis.__xss=1">' },
        extra: {
          payload: JSON.stringify({ html: "</pre><script>globalThis.__xss=2</script>", n: 1 }),
          headers: { note: "<b>bold</b>" },
        },
      },
      { id: "d3", error: { name: "Error", message: "boom" } },
      { id: "d4", error: { name: "Error", message: "boom" } },
    ]);
    await lb.enqueue([outgoing("mailer", "run-1")]);
    // Running for the hour: no consumer renews its lease.
    const running = await lb.receive(["mailer"], { max: 1, leaseMs: 3_600_000 });
    expect(running.map((d) => d.message.id)).toEqual(["run-1"]);
    await lb.enqueue([
      outgoing("mailer", "r-1"),
      outgoing("mailer", "later-1", { executeAt: Date.now() + 3_600_000 }),
    ]);
    await lb.enqueue(Array.from({ length: 7 }, (_, i) => outgoing("zeta", `z${i + 1}`)));

    // alpha: a job waiting after a failed attempt, and one that finished and left its result.
    await lb.enqueue([outgoing("alpha", "retry-1", { retries: 3 }), outgoing("alpha", "done-1")]);
    const [retry, done] = await take(lb, "alpha", 2);
    expect([retry?.message.id, done?.message.id]).toEqual(["retry-1", "done-1"]);
    await lb.settle([
      {
        kind: "requeue",
        delivery: retry!,
        attempt: 2,
        lastError: {
          name: "TimeoutError",
          code: "TIMEOUT",
          message: "attempt 1 timed out after 60000 ms",
          stack: "TimeoutError: attempt 1 timed out after 60000 ms\n    at run (worker.ts:40:3)",
        },
      },
      {
        kind: "ack",
        delivery: done!,
        result: {
          stored: {
            ok: true,
            value: JSON.stringify({ sent: 3, ids: ["a", "b"] }),
            finishedAt: Date.now(),
          },
          ttlMs: 3_600_000,
        },
      },
    ]);
    await lb.enqueue([outgoing("alpha", "a-1")]);

    ldash = await serveDashboard({ connection: lconn, port: 0, sampleEveryMs: 100 });
    lpage = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // Fails with the selector waited for, before the test's own timeout.
    lpage.setDefaultTimeout(10_000);
    await lpage.goto(ldash.url);
  });

  afterAll(async () => {
    await lpage?.close();
    await ldash?.close();
    await lconn?.disconnect();
  });

  const rows = (on: Page) =>
    on.evaluate(() =>
      [...(globalThis as unknown as InPageWindow).document.querySelectorAll("#job-rows tr")].map(
        (tr) => (tr as unknown as { dataset: { job: string } }).dataset.job,
      ),
    );

  it("opens on the busiest queue (most messages, ties by name) in its fullest state", async () => {
    await shows("#jobs-queue", "mailer", lpage);
    await shows('#state-tabs button[aria-pressed="true"]', "dead", lpage);
    await lpage.waitForSelector(`tr[data-job="${LONG_ID}"][data-state="dead"]`);
    expect(await rows(lpage)).toEqual([LONG_ID, "d-xss", "d3", "d4"]);
  });

  it("a job's view: clicked in a list or found by id; escaped; a finished job's result", async () => {
    await lpage.click(`tr[data-job="${LONG_ID}"] .job-link`);
    await lpage.waitForSelector(`#job-view[data-job="${LONG_ID}"]`);
    expect(await jobFields(lpage)).toMatchObject({
      id: LONG_ID,
      queue: "mailer",
      actor: "send_email",
      state: "dead",
      attempt: "1 of 1 (retries: 0)",
      error: `[SMTP_554] SmtpError: ${LONG_ERROR}`,
      headers: expect.stringContaining("tenant: acme"),
    });
    expect(Object.keys(await jobFields(lpage))).toEqual(
      expect.arrayContaining(["enqueued", "failed at", "arguments", "stack"]),
    );
    expect(await lpage.textContent("#job-view .args")).toBe(
      JSON.stringify({ to: `${LONG_ID}@example.com`, subject: "hi" }, null, 2),
    );
    expect(await lpage.textContent("#job-view .stack")).toContain("at relay (smtp.ts:88:13)");

    // Data stays text: no element made of it, no script run.
    await lpage.click('tr[data-job="d-xss"] .job-link');
    await lpage.waitForSelector('#job-view[data-job="d-xss"]');
    expect(await jobFields(lpage)).toMatchObject({
      error: 'Error: <img src=x onerror="globalThis.__xss=1">',
      headers: "note: <b>bold</b>",
    });
    expect(await lpage.textContent("#job-view .args")).toContain(
      '"html": "</pre><script>globalThis.__xss=2</script>"',
    );
    expect(await lpage.locator("#job-view img, #job-view script, #job-view b").count()).toBe(0);
    expect(await lpage.evaluate(() => (globalThis as { __xss?: number }).__xss)).toBeUndefined();

    // Entering an id: a job waiting after a failed attempt shows that attempt's error.
    await lpage.fill("#lookup-id", "retry-1");
    await lpage.click("#lookup-form button");
    await lpage.waitForSelector('#job-view[data-job="retry-1"]');
    expect(await jobFields(lpage)).toMatchObject({
      queue: "alpha",
      state: "ready",
      attempt: "2 of 4 (retries: 3)",
      "last attempt's error": "[TIMEOUT] TimeoutError: attempt 1 timed out after 60000 ms",
    });
    expect(await lpage.textContent("#job-view .stack")).toContain("at run (worker.ts:40:3)");

    await lpage.fill("#lookup-id", "done-1");
    await lpage.click("#lookup-form button");
    await lpage.waitForSelector('#job-view[data-job="done-1"]');
    expect(await jobFields(lpage)).toMatchObject({ id: "done-1", state: "finished" });
    expect(await lpage.textContent("#job-view .result")).toBe(
      JSON.stringify({ sent: 3, ids: ["a", "b"] }, null, 2),
    );

    await lpage.fill("#lookup-id", "nobody");
    await lpage.click("#lookup-form button");
    await shows("#job-view .err", 'job "nobody" not found', lpage);

    await lpage.click(`tr[data-job="d3"] .job-link`);
    await lpage.waitForSelector('#job-view[data-job="d3"]');
    await lpage.click("#job-close");
    await lpage.waitForSelector("#job-view dl", { state: "detached" });
  });

  it("a page of jobs that arrives after another queue or state was chosen is not shown", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let asked!: () => void;
    const requested = new Promise<void>((resolve) => (asked = resolve));
    const zetaReady = /\/api\/queues\/zeta\/jobs\?state=ready/;
    await lpage.route(zetaReady, async (route) => {
      asked();
      await held;
      await route.continue();
    });
    try {
      await lpage.click('tr[data-queue="zeta"] td[data-count="ready"] a');
      await requested;
      await lpage.click('tr[data-queue="mailer"] td[data-count="dead"] a');
      await lpage.waitForSelector(`tr[data-job="${LONG_ID}"][data-state="dead"]`);
      // Records the rows put in the table from now on, and counts the page's refreshes.
      await lpage.evaluate(`
        globalThis.added = [];
        new MutationObserver((records) => { for (const r of records) for (const n of r.addedNodes) added.push(n.dataset.job); })
          .observe(document.getElementById("job-rows"), { childList: true });
        globalThis.refreshes = 0;
        new MutationObserver(() => refreshes++)
          .observe(document.getElementById("status"), { childList: true, characterData: true, subtree: true });
      `);
      release();
      // Two refreshes later, the held page has long arrived and been dealt with.
      await lpage.waitForFunction(
        () => (globalThis as unknown as { refreshes: number }).refreshes >= 2,
      );
      const added = await lpage.evaluate(
        () => (globalThis as unknown as { added: string[] }).added,
      );
      expect(added.filter((id) => id.startsWith("z"))).toEqual([]);
      await shows("#jobs-queue", "mailer", lpage);
      expect(await rows(lpage)).toEqual([LONG_ID, "d-xss", "d3", "d4"]);
    } finally {
      release();
      await lpage.unroute(zetaReady);
    }
  });

  it("fits 1024 to 1920 px: no sideways scrolling, no clipped button, dead letters' errors readable", async () => {
    mkdirSync("test-output", { recursive: true });
    const mailer = (state: string) => `tr[data-queue="mailer"] td[data-count="${state}"] a`;
    for (const width of [1024, 1280, 1680, 1920]) {
      await lpage.setViewportSize({ width, height: 900 });

      await lpage.click(mailer("ready"));
      await lpage.waitForSelector('tr[data-job="r-1"][data-state="ready"]');
      await lpage.screenshot({ path: `test-output/dashboard-${width}-queues.png`, fullPage: true });
      expect.soft(await layoutProblems(lpage), `${width} px, queues`).toEqual([]);

      await lpage.click(mailer("dead"));
      const longRow = `tr[data-job="${LONG_ID}"][data-state="dead"]`;
      await lpage.waitForSelector(longRow);
      await lpage.screenshot({ path: `test-output/dashboard-${width}-dead.png`, fullPage: true });
      expect.soft(await layoutProblems(lpage), `${width} px, dead letters`).toEqual([]);
      const cell = await extent(lpage, `${longRow} td:has(.err-text)`);
      const text = await extent(lpage, `${longRow} .err-text`);
      expect.soft(cell.width, `${width} px: error column width`).toBeGreaterThanOrEqual(200);
      expect.soft(text.lines, `${width} px: error lines`).toBeLessThanOrEqual(3.05);

      await lpage.click(`${longRow} .job-link`);
      await lpage.waitForSelector(`#job-view[data-job="${LONG_ID}"]`);
      await lpage.screenshot({ path: `test-output/dashboard-${width}-job.png`, fullPage: true });
      expect.soft(await layoutProblems(lpage), `${width} px, job view`).toEqual([]);
      expect
        .soft((await extent(lpage, "#job-view .error")).width, `${width} px: job view error width`)
        .toBeGreaterThanOrEqual(200);
      await lpage.click("#job-close");
      await lpage.waitForSelector("#job-view dl", { state: "detached" });
    }
  });
});

describeRedis("the dashboard on Redis: jobs waiting for a limit (issue 26)", () => {
  let cleanup: () => Promise<void>;
  let rconn: Connection;
  let rdash: RunningDashboard;
  let rpage: Page;

  beforeAll(async () => {
    const made = testBroker();
    cleanup = made.cleanup;
    rconn = new Connection(made.broker, { logger: silentLogger });
    await rconn.connect();
    await made.broker.declareQueue("crm");
    await holdTwo(made.broker, "crm");
    rdash = await serveDashboard({ connection: rconn, port: 0, sampleEveryMs: 100 });
    rpage = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    rpage.setDefaultTimeout(10_000);
    await rpage.goto(rdash.url);
  });

  afterAll(async () => {
    await rpage?.close();
    await rdash?.close();
    await rconn?.disconnect();
    await cleanup?.();
  });

  it("the queue table shows the limited count, by actor in its title", async () => {
    await shows(count("crm", "ready"), "0", rpage);
    await shows(count("crm", "limited"), "2", rpage);
    await shows(count("crm", "running"), "1", rpage);
    expect(await rpage.getAttribute(count("crm", "limited"), "title")).toBe(
      "waiting for a limit: sync: 2",
    );
    expect(await rpage.textContent("#queues thead")).toContain("Limited");
    expect.soft(await layoutProblems(rpage), "queues with a limited count").toEqual([]);
  });

  it("the job view shows which limit holds a waiting job, and none for the running one", async () => {
    await rpage.fill("#lookup-id", "s2");
    await rpage.click("#lookup-form button");
    await rpage.waitForSelector('#job-view[data-job="s2"]');
    expect(await jobFields(rpage)).toMatchObject({
      state: "ready",
      "held by": "concurrency limit 1",
    });
    await rpage.fill("#lookup-id", "s1");
    await rpage.click("#lookup-form button");
    await rpage.waitForSelector('#job-view[data-job="s1"]');
    const running = await jobFields(rpage);
    expect(running.state).toBe("running");
    expect(running["held by"]).toBeUndefined();
  });
});
