/**
 * PostgreSQL for the integration tests: Debian's PostgreSQL 15 (`.ci/run` installs
 * `postgresql`), run as the `postgres` OS user, and the `pg` client.
 */
import * as fs from "node:fs"
import { ManagedRuntime } from "effect"
import * as Postgres from "../../../src/targets/postgres/index.ts"

/** Why PostgreSQL tests cannot run here, or null. */
export const pgMissing = (): string | null => {
  if (!fs.existsSync(`${Postgres.DEFAULT_BIN}/initdb`)) return `no PostgreSQL server at ${Postgres.DEFAULT_BIN} (apt-get install postgresql)`
  if (process.getuid?.() === 0 && !fs.readFileSync("/etc/passwd", "utf8").split("\n").some((l) => l.startsWith("postgres:"))) return "no postgres OS user"
  try {
    import.meta.resolve("pg")
  } catch {
    return "the pg client is not installed"
  }
  return null
}

/** A cluster and its driver for a test file. */
export const clusterRuntime = (options: Postgres.PgClusterOptions) => ManagedRuntime.make(Postgres.layer(options))
