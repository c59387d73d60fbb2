import type { GenModel } from "./model.js";
import { registryModuleText } from "../templates/registry-module.js";

/** One file to write: its absolute path and unformatted text. */
export interface EmittedFile {
  readonly path: string;
  readonly content: string;
}

/** Turns the model into the files to write, through the pure templates. No I/O. */
export function emit(model: GenModel, outputPath: string): EmittedFile[] {
  return [{ path: outputPath, content: registryModuleText(model) }];
}
