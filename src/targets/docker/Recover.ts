/**
 * Recovery of Docker faults left by a run that died: reads the marker volumes the driver
 * wrote before touching each target (see DockerDriver.ts), reverts each fault from its
 * recorded revert data, and removes helper containers. Self-contained: it needs only the
 * engine, not the run's journal or ledger.
 *
 * @since 0.1.0
 */
import * as os from "node:os"
import * as Effect from "effect/Effect"
import { pidAlive } from "../../core/Os.ts"
import { DockerDriver, Labels } from "./DockerDriver.ts"
import { ALLOW_LABEL } from "./Faults.ts"
import type { DockerError } from "./DockerError.ts"
import { fromSdk } from "./DockerError.ts"

/** What `recover` did. @since 0.1.0 */
export interface RecoverReport {
  /** Faults reverted: `<fault> <container name> (run <id>)`. */
  readonly reverted: ReadonlyArray<string>
  /** Helper containers removed. */
  readonly helpersRemoved: ReadonlyArray<string>
  /** Markers left alone because their run is still alive on this host (use `force`). */
  readonly skipped: ReadonlyArray<string>
  /** Reverts that failed, with the reason; their markers are kept for another try. */
  readonly failed: ReadonlyArray<string>
}

// A marker's owner is `<hostname>:<pid>`: alive when that process still runs on this host.
const ownerAlive = (owner: string | undefined) => {
  if (owner === undefined) return false
  const i = owner.lastIndexOf(":")
  const host = owner.slice(0, i)
  const pid = Number(owner.slice(i + 1))
  return host === os.hostname() && Number.isInteger(pid) && pid !== process.pid && pidAlive(pid)
}

// Why recover may not act on a marker's container (null: it carries the allow label, or it
// is gone, when a revert is a no-op).
const notAllowed = (driver: DockerDriver["Service"], container: string | undefined) =>
  container === undefined
    ? Effect.succeed("the marker names no container")
    : driver.inspect(container).pipe(
      Effect.map((c) => c.labels[ALLOW_LABEL] === "true" ? null : `container ${c.name} lacks the label ${ALLOW_LABEL}=true`),
      Effect.catchIf((e) => e.reason === "NotFound", () => Effect.succeed(null))
    )

/**
 * Reverts the Docker faults of dead runs (or of one run) and removes their helpers.
 * Markers whose runner process is still alive on this host are skipped unless `force`.
 *
 * @example
 * ```ts
 * const report = yield* Docker.recover({ runId: "20261122T021439Z-a7acef" })
 * ```
 * @since 0.1.0
 */
export const recover = (
  options: { readonly runId?: string | undefined; readonly force?: boolean | undefined } = {}
): Effect.Effect<RecoverReport, DockerError, DockerDriver> =>
  Effect.gen(function*() {
    const driver = yield* DockerDriver
    const client = driver.client
    const runFilter = options.runId === undefined ? [Labels.run] : [`${Labels.run}=${options.runId}`]
    const reverted: Array<string> = []
    const helpersRemoved: Array<string> = []
    const skipped: Array<string> = []
    const failed: Array<string> = []

    const vols = yield* Effect.tryPromise({
      try: () =>
        (client.listVolumes as (o: unknown) => Promise<{ Volumes?: Array<{ Name: string; Labels?: Record<string, string> | null }> }>)({
          filters: JSON.stringify({ label: [...runFilter, `${Labels.marker}=true`] })
        }),
      catch: fromSdk("recover.listVolumes", "engine")
    })
    for (const v of vols.Volumes ?? []) {
      const labels = v.Labels ?? {}
      const what = `${labels[Labels.fault]} ${labels[Labels.target]?.slice(0, 12)} (run ${labels[Labels.run]})`
      if (!options.force && ownerAlive(labels[Labels.owner])) {
        skipped.push(`${what}: runner ${labels[Labels.owner]} is alive`)
        continue
      }
      let data: Record<string, unknown>
      try {
        data = { ...JSON.parse(labels[Labels.revert] ?? "{}"), marker: v.Name }
      } catch {
        failed.push(`${what}: unreadable revert data on ${v.Name}`)
        continue
      }
      // A marker is data anyone with access to the engine can write: act only on a container
      // that allows faults (the default guard's label), as the run itself had to.
      const refused = yield* notAllowed(driver, labels[Labels.target])
      if (refused !== null) {
        failed.push(`${what}: refused: ${refused}`)
        continue
      }
      const r = yield* Effect.exit(driver.revertData(String(labels[Labels.fault]), data))
      if (r._tag === "Success") reverted.push(`${labels[Labels.fault]} ${String(data.name ?? labels[Labels.target])} (run ${labels[Labels.run]})`)
      else failed.push(`${what}: ${String((r.cause as any)?.reasons?.[0]?.error?.message ?? r.cause)}`)
    }

    const helpers = yield* Effect.tryPromise({
      try: () => client.listContainers({ all: true, filters: JSON.stringify({ label: [...runFilter, Labels.helper] }) }),
      catch: fromSdk("recover.listContainers", "engine")
    })
    for (const h of helpers) {
      if (!options.force && ownerAlive(h.Labels?.[Labels.owner])) continue
      yield* Effect.tryPromise({ try: () => client.getContainer(h.Id).remove({ force: true }), catch: fromSdk("recover.removeHelper", h.Id) }).pipe(
        Effect.catchIf((e) => e.reason === "NotFound", () => Effect.void)
      )
      helpersRemoved.push(`${(h.Names?.[0] ?? h.Id).replace(/^\//, "")} (${h.Labels?.[Labels.helper]}, run ${h.Labels?.[Labels.run]})`)
    }
    return { reverted, helpersRemoved, skipped, failed }
  })
