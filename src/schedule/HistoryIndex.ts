/**
 * From run folders to history rows: each run's `report.json` (itself a fold of its journal)
 * gives one row; `reindex` rebuilds the whole index from a folder of runs, since the run
 * folders, not the database, are the source of truth.
 *
 * @since 0.2.0
 */
import * as fs from "node:fs"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as History from "./History.ts"

// Only what the index needs of a report; the report has more (and may grow), so other keys
// are not an error here.
const ReportFields = Schema.Struct({
  runId: Schema.String,
  experiment: Schema.String,
  status: Schema.String,
  cleanup: Schema.String,
  startedAt: Schema.String,
  endedAt: Schema.NullOr(Schema.String),
  definition: Schema.NullOr(Schema.Struct({
    objectives: Schema.Struct({ rtoMs: Schema.NullOr(Schema.Number), rpoMs: Schema.NullOr(Schema.Number) }),
    service: Schema.optionalKey(Schema.NullOr(Schema.Struct({ name: Schema.String, tier: Schema.NullOr(Schema.Number) })))
  })),
  rto: Schema.NullOr(Schema.Struct({ measuredMs: Schema.NullOr(Schema.Number) })),
  rpo: Schema.NullOr(Schema.Struct({ lostWrites: Schema.Number, windowMs: Schema.Number }))
})

/**
 * A run folder that could not be indexed, and why.
 *
 * @since 0.2.0
 */
export class NotIndexable extends Schema.TaggedError<NotIndexable>()("NotIndexable", { dir: Schema.String, detail: Schema.String }) {
  override get message() {
    return `${this.dir}: not indexed: ${this.detail}`
  }
}

/**
 * The history row of a run folder, from its `report.json`.
 *
 * @since 0.2.0
 */
export const rowOf = (dir: string): Effect.Effect<History.RunRow, NotIndexable> =>
  Effect.gen(function*() {
    const file = path.join(dir, "report.json")
    const raw = yield* Effect.try({
      try: () => JSON.parse(fs.readFileSync(file, "utf8")) as unknown,
      catch: (e) => new NotIndexable({ dir, detail: `report.json: ${(e as Error).message}` })
    })
    const r = yield* Schema.decodeUnknownEffect(ReportFields)(raw).pipe(
      Effect.mapError((e) => new NotIndexable({ dir, detail: `report.json: ${String(e.message).split("\n")[0]}` }))
    )
    const startedAt = Date.parse(r.startedAt)
    if (Number.isNaN(startedAt)) return yield* new NotIndexable({ dir, detail: `report.json: startedAt ${r.startedAt} is not a time` })
    const endedAt = r.endedAt === null ? null : Date.parse(r.endedAt)
    return {
      runId: r.runId,
      experiment: r.experiment,
      service: r.definition?.service?.name ?? null,
      tier: r.definition?.service?.tier ?? null,
      status: r.status,
      cleanup: r.cleanup,
      startedAt,
      endedAt: endedAt === null || Number.isNaN(endedAt) ? null : endedAt,
      rtoMs: r.rto?.measuredMs ?? null,
      rpoMs: r.rpo === null ? null : r.rpo.lostWrites > 0 ? r.rpo.windowMs : 0,
      rtoObjectiveMs: r.definition?.objectives.rtoMs ?? null,
      rpoObjectiveMs: r.definition?.objectives.rpoMs ?? null,
      reportPath: path.resolve(dir)
    }
  })

/**
 * Indexes one run folder into the store.
 *
 * @since 0.2.0
 */
export const indexRun = (store: History.Store, dir: string): Effect.Effect<History.RunRow, NotIndexable | History.HistoryError> =>
  Effect.flatMap(rowOf(dir), (row) => Effect.as(store.index([row]), row))

/**
 * Rebuilds the index from every run folder under `runsDir` (folders with a `report.json`;
 * the ledger and anything else is left alone). Returns how many were indexed and which
 * folders were not, with why.
 *
 * @since 0.2.0
 */
export const reindex = (store: History.Store, runsDir: string) =>
  Effect.gen(function*() {
    const entries = yield* Effect.try({
      try: () => fs.readdirSync(runsDir, { withFileTypes: true }),
      catch: (e) => new NotIndexable({ dir: runsDir, detail: (e as Error).message })
    })
    const rows: Array<History.RunRow> = []
    const skipped: Array<NotIndexable> = []
    for (const d of entries) {
      // Run folders are not followed through symlinks.
      if (!d.isDirectory()) continue
      const dir = path.join(runsDir, d.name)
      if (!fs.existsSync(path.join(dir, "report.json"))) {
        if (fs.existsSync(path.join(dir, "journal.jsonl"))) {
          skipped.push(new NotIndexable({ dir, detail: "no report.json (run `faultline report` on its journal first)" }))
        }
        continue
      }
      const r = yield* Effect.result(rowOf(dir))
      if (r._tag === "Success") rows.push(r.success)
      else skipped.push(r.failure)
    }
    yield* store.index(rows)
    return { indexed: rows.length, skipped }
  })
