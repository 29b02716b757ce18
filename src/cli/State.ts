/**
 * What the CLI's entry point and its lazily loaded commands share: the bad-input error and
 * the process' exit code and current run folder.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * Bad input: a malformed file, flag or module. The CLI prints `message` and exits 2.
 *
 * @since 0.1.0
 */
export class BadInput extends Schema.TaggedError<BadInput>()("BadInput", { message: Schema.String }) {}

/**
 * The exit code a command sets, and the run in progress, so that an interrupted run still
 * prints its summary and report path.
 *
 * @since 0.1.0
 */
export const state: { exitCode: number; runDir: string | null; indexFailed: boolean } = { exitCode: 0, runDir: null, indexFailed: false }
