import { isAbsolute, join } from "node:path";
import type { GenConfig } from "./config.js";
import { emit, type EmittedFile } from "./emit.js";
import type { CodegenWarning, GenModel } from "./model.js";
import { posixRelative } from "./scan/location.js";
import { loadProgram, type LoadedProgram } from "./scan/program.js";
import { scan } from "./scan/scan.js";
import {
  checkGenerated,
  finalizeGenerated,
  readIfExists,
  writeGenerated,
  type WriteOutcome,
} from "./write.js";

export { ScanFailure } from "./scan/scan.js";

/** A configuration plus where it applies and how to regenerate. */
export interface GenerateOptions extends GenConfig {
  /** The folder relative paths are resolved from. */
  readonly root: string;
  /** Quoted in the banner. @defaultValue "npx repid-gen" */
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
  readonly actors: readonly string[];
  readonly files: number;
  /** Milliseconds spent in each phase. */
  readonly timings: {
    readonly load: number;
    readonly scan: number;
    readonly emit: number;
    readonly write: number;
  };
}

/** The formatted files of one run, before they are written. */
export interface Rendered {
  readonly model: GenModel;
  readonly files: readonly EmittedFile[];
  /** What each output path held before the run (`undefined`: no file). */
  readonly current: ReadonlyMap<string, string | undefined>;
  /** Actor files read. */
  readonly inputs: number;
  readonly timings: { readonly load: number; readonly scan: number; readonly emit: number };
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
    const { program, actorFiles: files } = this.#loaded;
    const loaded = performance.now();
    const model = scan(program, files, {
      root: o.root,
      tsconfig: o.tsconfig,
      actors: o.actors,
      allowAny: o.allowAny,
      command: o.command ?? "npx repid-gen",
    });
    const scanned = performance.now();
    const outputPath = isAbsolute(o.output) ? o.output : join(o.root, o.output);
    const formatted: EmittedFile[] = [];
    const current = new Map<string, string | undefined>();
    for (const file of emit(model, outputPath)) {
      const existing = await readIfExists(file.path);
      current.set(file.path, existing);
      formatted.push(await finalizeGenerated(file, existing));
    }
    const emitted = performance.now();
    return {
      model,
      files: formatted,
      current,
      inputs: files.length,
      timings: { load: loaded - started, scan: scanned - loaded, emit: emitted - scanned },
    };
  }

  /** Scans, emits and writes (or with `check`, compares). Throws `ScanFailure` or `CodegenError`. */
  async run(options: { readonly check?: boolean } = {}): Promise<GenerateResult> {
    const rendered = await this.render();
    const started = performance.now();
    const o = this.#options;
    const display = posixRelative(o.root, isAbsolute(o.output) ? o.output : join(o.root, o.output));
    let outcome: WriteOutcome = "unchanged";
    for (const file of rendered.files) {
      const existing = rendered.current.get(file.path);
      outcome = options.check
        ? checkGenerated(file, existing)
        : await writeGenerated(file, existing, display);
    }
    return {
      model: rendered.model,
      warnings: rendered.model.warnings ?? [],
      output: display,
      outcome,
      actors: rendered.model.actors.map((a) => a.name),
      files: rendered.inputs,
      timings: { ...rendered.timings, write: performance.now() - started },
    };
  }
}

/** One generation run. @see Generator */
export function generate(
  options: GenerateOptions,
  run: { readonly check?: boolean } = {},
): Promise<GenerateResult> {
  return new Generator(options).run(run);
}
