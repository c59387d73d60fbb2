import { isAbsolute } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

// The src/ folder (dist/src/ when built): frames inside it are repid's own.
const here = new URL("..", import.meta.url).href;

/**
 * The URL of the module that called into repid: the first stack frame outside repid's own
 * `src/`. Sync actors are found again in threads by importing this module.
 */
export function callerModule(): string | undefined {
  const previous = Error.prepareStackTrace;
  try {
    Error.prepareStackTrace = (_error, frames) => frames;
    const frames = new Error().stack as unknown as NodeJS.CallSite[];
    for (const frame of frames) {
      const file = frame.getFileName();
      if (!file || file.startsWith("node:")) continue;
      const url = file.startsWith("file://")
        ? file
        : isAbsolute(file)
          ? pathToFileURL(file).href
          : undefined;
      if (!url || url.startsWith(here)) continue;
      return url;
    }
    return undefined;
  } finally {
    Error.prepareStackTrace = previous;
  }
}

/** A readable path for messages. */
export function displayPath(url: string): string {
  return url.startsWith("file://") ? fileURLToPath(url) : url;
}
