/**
 * Mutation-score rows shared by `npm run mutate` (which measures them) and `npm run bench`
 * (which carries the last ones into its bench/results.json).
 */
import * as fs from "node:fs"
import { fileURLToPath } from "node:url"
import type { Row } from "./stats.ts"

/** The last mutation rows, one per name (gitignored like bench/results.json). */
export const MUTATION_ROWS = fileURLToPath(new URL("./mutation.json", import.meta.url))

const readRows = (file: string): Array<Row> => fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as Array<Row>) : []

/** Rows of `rows` not named in `fresh`, then `fresh`: a newer figure replaces the older one of the same name. */
export const upsert = (rows: ReadonlyArray<Row>, fresh: ReadonlyArray<Row>): Array<Row> => {
  const names = new Set(fresh.map((r) => r.name))
  return [...rows.filter((r) => !names.has(r.name)), ...fresh]
}

/** The mutation rows of the last `npm run mutate` runs; none when it has not been run here. */
export const lastRows = (): Array<Row> => readRows(MUTATION_ROWS)

/** Records fresh mutation rows in bench/mutation.json and in `results` (bench/results.json). */
export const record = (fresh: ReadonlyArray<Row>, results: string): void => {
  fs.writeFileSync(MUTATION_ROWS, JSON.stringify(upsert(lastRows(), fresh), null, 2) + "\n")
  fs.writeFileSync(results, JSON.stringify(upsert(readRows(results), fresh), null, 2) + "\n")
}
