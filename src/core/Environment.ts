/**
 * Who ran an experiment, with what and where: faultline's version, the host, the OS user and
 * the platform. Journaled in `RunStarted` so that a report can say so; names only — no
 * environment variable and no value of one ever enters it.
 *
 * @since 0.1.0
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as Schema from "effect/Schema"

/**
 * Where and by whom a run was made.
 *
 * @since 0.1.0
 */
export const Environment = Schema.Struct({
  /** faultline's version, from its package.json. */
  faultline: Schema.String,
  host: Schema.String,
  /** The OS user name (not its environment: `$USER` may say anything). */
  user: Schema.String,
  /** `linux x64`, `darwin arm64`, ... */
  platform: Schema.String,
  /** The Node.js version. */
  node: Schema.String
})
/** @since 0.1.0 */
export type Environment = typeof Environment.Type

// The package.json of faultline itself, found by walking up from this file: the same code runs
// from src/core (tests, `node --experimental-strip-types`) and from dist/src/core (the package).
const readVersion = (): string => {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const file = path.join(dir, "package.json")
    try {
      const pkg = JSON.parse(fs.readFileSync(file, "utf8")) as { name?: unknown; version?: unknown }
      if (pkg.name === "faultline" && typeof pkg.version === "string") return pkg.version
    } catch {
      // No package.json here (or not one we can read): keep walking up.
    }
    const up = path.dirname(dir)
    if (up === dir) return "unknown"
    dir = up
  }
}

// Asked of the OS, not of $USER: a user name must not depend on what the environment claims,
// and userInfo() throws where the uid has no passwd entry (some containers).
const userName = (): string => {
  try {
    return os.userInfo().username
  } catch {
    return typeof process.getuid === "function" ? `uid ${process.getuid()}` : "unknown"
  }
}

let cached: Environment | undefined

/**
 * The environment of this process (read once; none of it changes while it runs).
 *
 * @since 0.1.0
 */
export const current = (): Environment =>
  cached ??= {
    faultline: readVersion(),
    host: os.hostname(),
    user: userName(),
    platform: `${process.platform} ${process.arch}`,
    node: process.versions.node
  }
