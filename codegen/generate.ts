import { mkdir, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { CodegenError } from "repid";
import { asyncApiDocument } from "./asyncapi.js";
import type { GenConfig } from "./config.js";
import { emit, type EmittedFile } from "./emit.js";
import type { CodegenWarning, GenModel } from "./model.js";
import { posixRelative } from "./scan/location.js";
import { loadProgram, type LoadedProgram } from "./scan/program.js";
import { scan, ScanFailure } from "./scan/scan.js";
import {
  finalizeGenerated,
  readIfExists,
  sameCode,
  writeGenerated,
  type WriteOutcome,
} from "./write.js";

export { ScanFailure } from "./scan/scan.js";

/** A configuration plus where it applies and how to regenerate. */
export interface GenerateOptions extends GenConfig {
  /** The folder relative paths are resolved from. */
  readonly root: string;
  /**
   * How to regenerate, quoted in the banner: the CLI passes `npx repid-gen`, plus `--config`
   * for a config file other than the default; never the other flags, so that the same actors
   * give the same file whether their config came from flags or from a file.
   * @defaultValue "npx repid-gen"
   */
  readonly command?: string;
}

/** What one run did. */
export interface GenerateResult {
  /** The model the run generated from (for extra outputs such as `--asyncapi`). */
  readonly model: GenModel;
  /** Things accepted with a caveat (such as `any` with --allowAny), for the CLI to print. */
  readonly warnings: readonly CodegenWarning[];
  /** The output path relative to the root. */
  readonly output: string;
  readonly outcome: WriteOutcome;
  /** The AsyncAPI document, when configured: its path relative to the root, and what happened. */
  readonly asyncapi?: { readonly output: string; readonly outcome: WriteOutcome };
  readonly actors: readonly string[];
  readonly files: number;
  /** Milliseconds spent in each phase (`write`: comparing, with `check`). */
  readonly timings: RenderTimings & { readonly write: number };
}

/** Milliseconds spent loading the program, scanning, emitting the text and formatting it. */
export interface RenderTimings {
  readonly load: number;
  readonly scan: number;
  readonly emit: number;
  readonly format: number;
}

/** The formatted files of one run, before they are written. */
export interface Rendered {
  readonly model: GenModel;
  readonly files: readonly EmittedFile[];
  /** The AsyncAPI document (JSON), when configured. */
  readonly asyncapi?: EmittedFile;
  /** What each output path held before the run (`undefined`: no file). */
  readonly current: ReadonlyMap<string, string | undefined>;
  /** Actor files read. */
  readonly inputs: number;
  readonly timings: RenderTimings;
}

/** True when `text` is an AsyncAPI document, which repid-gen may overwrite. */
function isAsyncApi(text: string): boolean {
  return /^\{\s*"asyncapi"\s*:/.test(text);
}

/**
 * A generator that keeps its compiler program between runs until a file changes (for
 * `--watch`); then the next run builds it anew.
 */
export class Generator {
  readonly #options: GenerateOptions;
  #loaded: LoadedProgram | undefined;

  constructor(options: GenerateOptions) {
    this.#options = options;
  }

  /**
   * The files the last run read: actor files, the files they import and ambient declarations,
   * outside node_modules. `--watch` watches them.
   */
  get inputs(): string[] {
    const program = this.#loaded?.program;
    if (!program) return [];
    return program
      .getSourceFiles()
      .filter(
        (f) => !program.isSourceFileDefaultLibrary(f) && !/[\\/]node_modules[\\/]/.test(f.fileName),
      )
      .map((f) => f.fileName)
      .sort();
  }

  /**
   * Forgets what changed files held: the next run builds its program anew, reading the actor
   * files (new ones too) and everything they import from disk.
   */
  refresh(paths: readonly string[]): void {
    if (paths.length > 0) this.#loaded = undefined;
  }

  /** Scans and emits, formatted, without touching the output. Throws `ScanFailure`. */
  async render(): Promise<Rendered> {
    const o = this.#options;
    const started = performance.now();
    this.#loaded ??= loadProgram(o);
    let loaded = performance.now();
    let model: GenModel;
    try {
      model = this.#scan(this.#loaded);
    } catch (error) {
      // A type that does not resolve may be the DOM's, which the program left out: load it.
      if (!this.#loaded.withoutDom || !(error instanceof ScanFailure)) throw error;
      if (!error.errors.some((e) => e.message.includes("does not resolve"))) throw error;
      this.#loaded = loadProgram({ ...o, dom: true });
      loaded = performance.now();
      model = this.#scan(this.#loaded);
    }
    const files = this.#loaded.actorFiles;
    const scanned = performance.now();
    const emitted = emit(model, this.#path(o.output));
    const asyncapi = o.asyncapi
      ? {
          path: this.#path(o.asyncapi),
          content: `${JSON.stringify(asyncApiDocument(model), null, 2)}\n`,
        }
      : undefined;
    const emittedAt = performance.now();
    const formatted: EmittedFile[] = [];
    const current = new Map<string, string | undefined>();
    for (const file of emitted) {
      const existing = await readIfExists(file.path);
      current.set(file.path, existing);
      formatted.push(await finalizeGenerated(file, existing));
    }
    if (asyncapi) current.set(asyncapi.path, await readIfExists(asyncapi.path));
    const formattedAt = performance.now();
    return {
      model,
      files: formatted,
      ...(asyncapi ? { asyncapi } : {}),
      current,
      inputs: files.length,
      timings: {
        load: loaded - started,
        scan: scanned - loaded,
        emit: emittedAt - scanned,
        format: formattedAt - emittedAt,
      },
    };
  }

  #scan(loaded: LoadedProgram): GenModel {
    const o = this.#options;
    return scan(loaded.program, loaded.actorFiles, {
      root: o.root,
      tsconfig: o.tsconfig,
      actors: o.actors,
      allowAny: o.allowAny,
      command: o.command ?? "npx repid-gen",
    });
  }

  #path(path: string): string {
    return resolve(this.#options.root, path);
  }

  /** Scans, emits and writes (or with `check`, compares). Throws `ScanFailure` or `CodegenError`. */
  async run(options: { readonly check?: boolean } = {}): Promise<GenerateResult> {
    const rendered = await this.render();
    const started = performance.now();
    const o = this.#options;
    const display = posixRelative(o.root, this.#path(o.output));
    let outcome: WriteOutcome = "unchanged";
    for (const file of rendered.files) {
      const existing = rendered.current.get(file.path);
      if (options.check) outcome = sameCode(existing, file.content) ? "fresh" : "stale";
      else if (sameCode(existing, file.content)) outcome = "unchanged";
      else outcome = await writeGenerated(file, existing, display);
    }
    const asyncapi = rendered.asyncapi
      ? {
          output: posixRelative(o.root, rendered.asyncapi.path),
          outcome: await this.#writeAsyncApi(
            rendered.asyncapi,
            rendered.current.get(rendered.asyncapi.path),
            options.check ?? false,
          ),
        }
      : undefined;
    return {
      model: rendered.model,
      warnings: rendered.model.warnings ?? [],
      output: display,
      outcome,
      ...(asyncapi ? { asyncapi } : {}),
      actors: rendered.model.actors.map((a) => a.name),
      files: rendered.inputs,
      timings: { ...rendered.timings, write: performance.now() - started },
    };
  }

  /** Writes (or with `check`, compares) the AsyncAPI document; never over another file. */
  async #writeAsyncApi(
    file: EmittedFile,
    current: string | undefined,
    check: boolean,
  ): Promise<WriteOutcome> {
    if (current === file.content) return check ? "fresh" : "unchanged";
    if (check) return "stale";
    if (current !== undefined && !isAsyncApi(current)) {
      throw new CodegenError(
        posixRelative(this.#options.root, file.path),
        1,
        1,
        "refusing to overwrite a file that is not an AsyncAPI document; delete it or choose another path",
      );
    }
    await mkdir(dirname(file.path), { recursive: true });
    await writeFile(file.path, file.content);
    return "written";
  }
}

/** One generation run. @see Generator */
export function generate(
  options: GenerateOptions,
  run: { readonly check?: boolean } = {},
): Promise<GenerateResult> {
  return new Generator(options).run(run);
}
