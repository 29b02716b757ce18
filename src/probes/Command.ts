/**
 * The command probe: runs a program through `effect/process`.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { ChildProcess, type ChildProcessSpawner } from "effect/process"
import * as Probe from "../core/Probe.ts"

/**
 * A probe that runs `command args`; good when it exits 0. The sample's value is its
 * trimmed stdout, so text tolerances (exact, regex, range) can judge it.
 *
 * @since 0.1.0
 */
export const command = (
  cmd: string,
  args: ReadonlyArray<string> = [],
  options?: { readonly timeout?: Duration.Input; readonly cwd?: string }
): Probe.Probe<ChildProcessSpawner.ChildProcessSpawner> =>
  Probe.make(
    `command ${[cmd, ...args].join(" ")}`,
    Effect.scoped(Effect.gen(function*() {
      const handle = yield* ChildProcess.make(cmd, args, { cwd: options?.cwd })
      const out = yield* handle.stdout.pipe(Stream.decodeText(), Stream.mkString)
      const code = yield* handle.exitCode
      if (code !== 0) return yield* Effect.fail(new Error(`exit code ${code}`))
      const text = out.trim()
      const n = Number(text)
      return text !== "" && Number.isFinite(n) ? n : text
    })),
    { timeout: options?.timeout ?? "5 seconds", spec: { kind: "command", params: { command: cmd, args: [...args] } } }
  )
