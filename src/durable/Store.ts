/**
 * faultline's own durable tables, next to the cluster's: every attempt at a drill (which
 * runner, when) and every step a drill completed (once: the primary key refuses a second
 * completion, and it is written in the same transaction as the step's activity result).
 *
 * @since 0.2.0
 */
import * as Effect from "effect/Effect"
import * as SqlClient from "effect/sql/SqlClient"

/** @since 0.2.0 */
export const migrate = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.unsafe(`CREATE TABLE IF NOT EXISTS faultline_drill_attempts (
    execution_id TEXT NOT NULL, attempt INTEGER NOT NULL, runner TEXT NOT NULL, started_at BIGINT NOT NULL,
    PRIMARY KEY (execution_id, attempt))`)
  yield* sql.unsafe(`CREATE TABLE IF NOT EXISTS faultline_drill_steps (
    execution_id TEXT NOT NULL, step_id TEXT NOT NULL, attempt INTEGER NOT NULL, runner TEXT NOT NULL, completed_at BIGINT NOT NULL,
    PRIMARY KEY (execution_id, step_id))`)
}).pipe(
  // Two runners creating the tables at once: the loser's CREATE fails on the catalog; the tables are there.
  Effect.retry({ times: 3 })
)

/**
 * Records a new attempt at an execution and returns its number (1 for the first).
 *
 * @since 0.2.0
 */
export const beginAttempt = (executionId: string, runner: string, now: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql.unsafe<{ attempt: number }>(
      `INSERT INTO faultline_drill_attempts (execution_id, attempt, runner, started_at)
       SELECT $1, COALESCE(MAX(attempt), 0) + 1, $2, $3 FROM faultline_drill_attempts WHERE execution_id = $1
       RETURNING attempt`,
      [executionId, runner, now]
    )
    return Number(rows[0]!.attempt)
  }).pipe(Effect.retry({ times: 3 }))

/** The steps of an execution completed so far. @since 0.2.0 */
export const completedSteps = (executionId: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql.unsafe<{ step_id: string }>("SELECT step_id FROM faultline_drill_steps WHERE execution_id = $1", [executionId])
    return new Set(rows.map((r) => r.step_id))
  })

/** Records a completed step (fails if it was completed before). @since 0.2.0 */
export const completeStep = (executionId: string, stepId: string, attempt: number, runner: string, now: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql.unsafe(
      "INSERT INTO faultline_drill_steps (execution_id, step_id, attempt, runner, completed_at) VALUES ($1, $2, $3, $4, $5)",
      [executionId, stepId, attempt, runner, now]
    )
  })

/** Every attempt, oldest first (tests, `faultline runner --status`). @since 0.2.0 */
export const attempts = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql.unsafe<{ execution_id: string; attempt: number; runner: string; started_at: string }>(
    "SELECT execution_id, attempt, runner, started_at FROM faultline_drill_attempts ORDER BY started_at, attempt"
  )
  return rows.map((r) => ({ executionId: r.execution_id, attempt: Number(r.attempt), runner: r.runner, startedAt: Number(r.started_at) }))
})
