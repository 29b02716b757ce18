/**
 * Which history database the CLI uses: `--history` (a SQLite file or a `postgres://` URL),
 * else `$FAULTLINE_HISTORY`; `faultline history` falls back to `<out>/history.db`.
 *
 * @since 0.2.0
 */
import * as path from "node:path"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as History from "../schedule/History.ts"
import * as Stores from "../schedule/Stores.ts"
import { BadInput } from "./State.ts"

/**
 * The configured history, or null when none is (runs are then not indexed).
 *
 * @since 0.2.0
 */
export const configured = (flag: Option.Option<string>): string | null => Option.getOrUndefined(flag) ?? (process.env.FAULTLINE_HISTORY || null)

/**
 * The history `faultline history` reads.
 *
 * @since 0.2.0
 */
export const orDefault = (flag: Option.Option<string>, out: string): string => configured(flag) ?? path.join(out, "history.db")

/**
 * The history's name for messages: a URL without its password.
 *
 * @since 0.2.0
 */
export const label = (spec: string): string => Stores.isPostgres(spec) ? spec.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@") : spec

/**
 * Opens a history store; a store that cannot be opened (corrupt, locked, unreachable) is bad
 * input: one line naming it and the cause, exit 2.
 *
 * @since 0.2.0
 */
export const open = (spec: string): Effect.Effect<History.Store, BadInput> =>
  Effect.mapError(Stores.open(spec), (e) => new BadInput({ message: `${e.message}` }))
