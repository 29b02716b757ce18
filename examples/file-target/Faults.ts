/**
 * File faults, as data. `file.hide` renames a file aside (e.g. a config file or a lock
 * file) so the service under test cannot find it; reverting renames it back.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { Fault, Selector } from "faultline"
import { FileDriver } from "./FileDriver.ts"

/** The base of every file fault: interpreted by FileDriver, no default guards. @since 0.1.0 */
export const FileFaultClass = Fault.Class(FileDriver)

/**
 * `file.hide`: rename `dir/NAME` to `dir/.NAME.hidden`, for each selected file of `dir`.
 *
 * @since 0.1.0
 */
export class FileHide extends FileFaultClass<FileHide>()("file.hide", {
  target: Selector.Selector,
  dir: Schema.String
}) {}

/** `file.hide`. @since 0.1.0 */
export const hide = (options: { readonly target: Selector.Selector; readonly dir: string }): FileHide => new FileHide(options)
