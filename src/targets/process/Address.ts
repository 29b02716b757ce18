/**
 * Addresses that follow a process: `${NAME.port}` in a probe's URL, host or port names the
 * port process NAME bound, as the first capture group of its `ready` pattern captured it.
 * It is resolved from the process driver at every sample, so after a restart (the revert of
 * `process.kill`, or `process.restart`) on `--port 0` the probe uses the new port.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Probe from "../../core/Probe.ts"
import { ProcessDriver } from "./ProcessDriver.ts"
import { ProcessError } from "./ProcessError.ts"

// `${NAME.port}`: NAME is a managed process' name (anything but `}`), `port` the only field.
const PLACEHOLDER = /\$\{([^}]+)\.(port)\}/g
const ANY = /\$\{([^}]*)\}/g

/**
 * The processes a template names, with where (the placeholder as written); placeholders
 * that are not `${NAME.port}` come back with `name: null`.
 *
 * @since 0.1.0
 */
export const references = (template: string): ReadonlyArray<{ readonly placeholder: string; readonly name: string | null }> =>
  [...template.matchAll(ANY)].map((m) => {
    const one = new RegExp(PLACEHOLDER.source).exec(m[0])
    return { placeholder: m[0], name: one && one[0] === m[0] ? one[1]! : null }
  })

/** Whether a template names any process. @since 0.1.0 */
export const isTemplate = (text: string): boolean => new RegExp(ANY.source).test(text)

// The port a process' ready pattern captured, now.
const capturedPort = (driver: ProcessDriver["Service"], name: string) =>
  Effect.flatMap(driver.get(name), (p) =>
    p.readyMatch === null
      ? Effect.fail(
        new ProcessError({ reason: "NotReady", target: name, operation: "address", detail: "its `ready` pattern captured nothing to use as a port" })
      )
      : Effect.succeed(p.readyMatch))

/**
 * A URL (or host) template resolved at every sample: each `${NAME.port}` becomes the port
 * process NAME's `ready` pattern captured when it last started.
 *
 * @example
 * ```ts
 * Probe.http(Process.url("http://127.0.0.1:${backend.port}/health"))
 * ```
 * @since 0.1.0
 */
export const url = (template: string): Probe.Dynamic<string, ProcessDriver> =>
  Probe.dynamic(
    template,
    Effect.gen(function*() {
      const driver = yield* ProcessDriver
      let out = ""
      let last = 0
      for (const m of template.matchAll(PLACEHOLDER)) {
        out += template.slice(last, m.index) + (yield* capturedPort(driver, m[1]!))
        last = m.index + m[0].length
      }
      return out + template.slice(last)
    })
  )

/**
 * The port process `name` bound, resolved at every sample (see `url`).
 *
 * @example
 * ```ts
 * Probe.tcp("127.0.0.1", Process.port("backend"))
 * ```
 * @since 0.1.0
 */
export const port = (name: string): Probe.Dynamic<number, ProcessDriver> =>
  Probe.dynamic(
    `\${${name}.port}`,
    Effect.gen(function*() {
      const driver = yield* ProcessDriver
      const text = yield* capturedPort(driver, name)
      const n = Number(text)
      if (!Number.isInteger(n) || n < 1 || n > 65535) {
        return yield* new ProcessError({ reason: "NotReady", target: name, operation: "address", detail: `captured ${JSON.stringify(text)}, not a port` })
      }
      return n
    })
  )
