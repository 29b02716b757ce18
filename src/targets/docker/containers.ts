/**
 * Handlers of the Docker faults on a container's lifecycle: kill, stop, restart, pause,
 * remove.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type * as Handler from "../../core/Handler.ts"
import type * as Target from "../../core/Target.ts"
import { containerOf, type DockerContext, ensureRunning, faultTag, ineffective, Labels, marked, markerName, notModifiedOk, onContainer } from "./Engine.ts"
import { DockerError } from "./DockerError.ts"
import type { DockerFault } from "./Faults.ts"

type Containers = "docker.kill" | "docker.stop" | "docker.restart" | "docker.pause" | "docker.remove"

// Kill, stop and restart are undone the same way: start it if it does not run (a restart
// policy may have done so already) — unless it did not run before the fault either.
const startAgain = onContainer((ctx, c, data) =>
  !c.running && !c.paused && data.wasRunning !== false
    ? Effect.asVoid(ctx.call("start", c.name, notModifiedOk(() => ctx.client.getContainer(c.id).start())))
    : Effect.void
)

// Revert data for the ledger's intent, before anything is touched: the container, its state
// now, and the marker the injection will write (named from the fault id), so a runner that
// dies anywhere in the injection leaves a record that undoes whatever part of it landed.
const prepared = (ctx: DockerContext, target: Target.Target) =>
  Effect.gen(function*() {
    const c = yield* ctx.inspect(target.id)
    return { container: c.id, name: c.name, wasRunning: c.running || c.paused, wasPaused: c.paused, marker: markerName(yield* faultTag) }
  })

const stillPaused = (name: string) => new DockerError({ reason: "Conflict", target: name, operation: "unpause", detail: "still paused" })

// The hot path of mass reverts: unpause straight away; "is not paused" (HTTP 500 or 409)
// and "no such container" (404) mean there is nothing to undo. Then confirm.
const unpause = (ctx: DockerContext, data: Handler.RevertData, target?: Target.Target) =>
  Effect.gen(function*() {
    const id = yield* containerOf(data, target)
    // Paused before this fault (by someone else): not ours to unpause.
    if (data.wasPaused !== true) {
      yield* ctx.call("unpause", String(data.name ?? id), () => ctx.client.getContainer(id).unpause()).pipe(
        Effect.catchIf((e) => e.reason === "Conflict" || e.reason === "NotFound" || /is not paused/i.test(e.detail), () => Effect.void)
      )
      const s = yield* ctx.inspectOrNull(id)
      if (s?.paused) return yield* stillPaused(s.name)
    }
    yield* ctx.removeMarker(data.marker)
  })

/**
 * The container faults' handlers.
 *
 * @since 0.1.0
 */
export const containers: Pick<Handler.Handlers<DockerContext, DockerFault, DockerError>, Containers> = {
  "docker.kill": {
    prepare: (ctx, _fault, target) => prepared(ctx, target),
    inject: (ctx, fault, target) =>
      Effect.gen(function*() {
        const c = yield* ctx.inspect(target.id)
        yield* ensureRunning("kill", c)
        const data = { container: c.id, name: c.name, signal: fault.signal, startedAt: c.startedAt }
        return yield* marked(ctx, fault._tag, c, data, {}, ctx.call("kill", c.name, () => ctx.client.getContainer(c.id).kill({ signal: fault.signal })))
      }),
    // Dead, or already restarted by a restart policy (a new StartedAt).
    verify: (ctx, fault, _target, data) =>
      fault.signal !== "SIGKILL"
        ? Effect.void
        : ctx.verify(
          "kill",
          String(data.name),
          "container exit",
          Effect.map(ctx.inspect(String(data.container)), (s) => !s.running || s.startedAt !== data.startedAt)
        ),
    revert: startAgain
  },
  "docker.stop": {
    prepare: (ctx, _fault, target) => prepared(ctx, target),
    inject: (ctx, fault, target) =>
      Effect.gen(function*() {
        const c = yield* ctx.inspect(target.id)
        const data = { container: c.id, name: c.name }
        return yield* marked(
          ctx,
          fault._tag,
          c,
          data,
          {},
          ctx.call("stop", c.name, notModifiedOk(() => ctx.client.getContainer(c.id).stop({ t: fault.graceSeconds })))
        )
      }),
    verify: (ctx, _fault, _target, data) =>
      ctx.verify("stop", String(data.name), "container stopped", Effect.map(ctx.inspect(String(data.container)), (s) => !s.running && !s.paused)),
    revert: startAgain
  },
  "docker.restart": {
    prepare: (ctx, _fault, target) => prepared(ctx, target),
    inject: (ctx, fault, target) =>
      Effect.gen(function*() {
        const c = yield* ctx.inspect(target.id)
        const data = { container: c.id, name: c.name, startedAt: c.startedAt }
        return yield* marked(ctx, fault._tag, c, data, {}, ctx.call("restart", c.name, () => ctx.client.getContainer(c.id).restart({ t: fault.graceSeconds })))
      }),
    verify: (ctx, _fault, _target, data) =>
      ctx.verify(
        "restart",
        String(data.name),
        "a new start",
        Effect.map(ctx.inspect(String(data.container)), (s) => s.running && s.startedAt !== data.startedAt)
      ),
    revert: startAgain
  },
  "docker.pause": {
    // Unpausing by id is safe whether or not the pause landed (not if it was paused before).
    prepare: (ctx, _fault, target) => prepared(ctx, target),
    inject: (ctx, fault, target) =>
      Effect.gen(function*() {
        const c = yield* ctx.inspect(target.id)
        yield* ensureRunning("pause", c)
        const run = yield* ctx.runId
        const data = { container: c.id, name: c.name }
        return yield* marked(ctx, fault._tag, c, data, { [Labels.pausedBy]: run }, ctx.call("pause", c.name, () => ctx.client.getContainer(c.id).pause()))
      }),
    verify: (ctx, _fault, _target, data) =>
      Effect.flatMap(
        ctx.inspect(String(data.container)),
        (s) => s.paused ? Effect.void : Effect.fail(ineffective("pause", s.name, `state is ${s.status} after pause`))
      ),
    revert: unpause
  },
  // Irreversible: no marker and no revert.
  "docker.remove": {
    inject: (ctx, fault, target) =>
      Effect.gen(function*() {
        const c = yield* ctx.inspect(target.id)
        yield* ctx.call("remove", c.name, () => ctx.client.getContainer(c.id).remove({ force: true, v: fault.volumes }))
        return { container: c.id, name: c.name, irreversible: true }
      }),
    verify: (ctx, _fault, _target, data) =>
      Effect.flatMap(
        ctx.inspectOrNull(String(data.container)),
        (s) => s === null ? Effect.void : Effect.fail(ineffective("remove", String(data.name), `container still exists (${s.status})`))
      )
  }
}
