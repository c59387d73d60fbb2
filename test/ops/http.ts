/** Small helpers for the ops tests: GET a path of a health server, read Prometheus text. */

export interface Answer {
  readonly status: number;
  readonly contentType: string | null;
  readonly text: string;
}

/** GET `path` from a server listening at `address`. */
export async function get(
  address: { readonly host: string; readonly port: number } | undefined,
  path: string,
): Promise<Answer> {
  if (!address) throw new Error("the health server is not listening");
  const response = await fetch(`http://${address.host}:${address.port}${path}`);
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    text: await response.text(),
  };
}

/** `name{labels} value` lines of Prometheus text, as a map from `name{labels}` to value. */
export function samples(text: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    found.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return found;
}

/** The samples whose series starts with `prefix`, in a plain object (for `toEqual`). */
export function series(all: Map<string, number>, prefix: string): Record<string, number> {
  return Object.fromEntries([...all].filter(([key]) => key.startsWith(prefix)));
}
