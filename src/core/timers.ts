/** Node's timers fire at once for delays past 2^31-1 ms (about 24.8 days); these re-arm in steps. */
export const MAX_TIMER_MS = 2_147_483_647;

/** A timer handle that works for any finite delay; `Infinity` never fires. */
export interface LongTimer {
  clear(): void;
}

/**
 * Calls `fn` after `ms`, however long, never early. The timer does not keep the process alive
 * when `unref` is set.
 */
export function setLongTimeout(fn: () => void, ms: number, unref = false): LongTimer {
  let timer: NodeJS.Timeout | undefined;
  let cleared = false;
  const due = Date.now() + ms;
  const arm = (): void => {
    if (cleared || !Number.isFinite(due)) return;
    const left = due - Date.now();
    if (left > MAX_TIMER_MS) {
      timer = setTimeout(arm, MAX_TIMER_MS);
    } else {
      timer = setTimeout(fn, Math.max(0, left));
    }
    if (unref) timer.unref();
  };
  arm();
  return {
    clear: () => {
      cleared = true;
      clearTimeout(timer);
    },
  };
}
