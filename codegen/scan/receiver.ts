import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { ts } from "ts-morph";
import { objectFlags } from "./location.js";

// src/worker/ since the worker wing; src/ in releases before it.
const CLASS_FILE = /[\\/](?:dist[\\/])?src[\\/](?:worker[\\/])?(router|worker)\.(?:d\.)?[cm]?[jt]s$/;
const CLASS_NAMES = new Set(["Router", "Worker"]);

/**
 * Decides whether a value's type is repid's `Router` or `Worker` (or a subclass of one): the
 * class must be declared in repid's own `src/worker/router.ts` / `src/worker/worker.ts`, or their built
 * `.d.ts`, inside a package named `repid`. Aliases and re-exports resolve to that declaration.
 */
export class RepidClassDetector {
  readonly #checker: ts.TypeChecker;
  readonly #packageNames = new Map<string, string | undefined>();
  readonly #verdicts = new Map<ts.Symbol, boolean>();

  constructor(checker: ts.TypeChecker) {
    this.#checker = checker;
  }

  /** True when `type` (the receiver of `.actor(...)`) is a repid Router or Worker. */
  isRouter(type: ts.Type): boolean {
    const seen = new Set<ts.Type>();
    const visit = (t: ts.Type): boolean => {
      if (seen.has(t)) return false;
      seen.add(t);
      if (t.isUnionOrIntersection()) return t.types.every(visit);
      const symbol = t.getSymbol();
      if (!symbol || !(symbol.flags & ts.SymbolFlags.Class)) return false;
      if (this.#isRepidClass(symbol)) return true;
      const target = objectFlags(t) & ts.ObjectFlags.Reference ? (t as ts.TypeReference).target : t;
      if (!(objectFlags(target) & ts.ObjectFlags.ClassOrInterface)) return false;
      return this.#checker.getBaseTypes(target as ts.InterfaceType).some(visit);
    };
    return visit(type);
  }

  #isRepidClass(symbol: ts.Symbol): boolean {
    const cached = this.#verdicts.get(symbol);
    if (cached !== undefined) return cached;
    const verdict =
      CLASS_NAMES.has(symbol.getName()) &&
      (symbol.declarations ?? []).some((d) => {
        const file = d.getSourceFile().fileName;
        return CLASS_FILE.test(file) && this.#packageName(dirname(file)) === "repid";
      });
    this.#verdicts.set(symbol, verdict);
    return verdict;
  }

  /** The `name` of the nearest package.json above `dir`. */
  #packageName(dir: string): string | undefined {
    if (this.#packageNames.has(dir)) return this.#packageNames.get(dir);
    let name: string | undefined;
    const file = join(dir, "package.json");
    if (existsSync(file)) {
      try {
        const parsed: unknown = JSON.parse(readFileSync(file, "utf8"));
        const n = (parsed as { name?: unknown }).name;
        name = typeof n === "string" ? n : undefined;
      } catch {
        name = undefined;
      }
    } else {
      const parent = dirname(dir);
      name = parent === dir ? undefined : this.#packageName(parent);
    }
    this.#packageNames.set(dir, name);
    return name;
  }
}
