/**
 * The DNS answer probe: asks a given resolver (not the system's) for a name.
 *
 * @since 0.1.0
 */
import { Resolver } from "node:dns"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Probe from "../core/Probe.ts"

/**
 * A probe that resolves `name` (A, AAAA, CNAME or TXT) against `servers` (e.g.
 * `["127.0.0.1:5353"]`). Its value is the sorted answer; with `expect`, it is good only
 * when the answer contains every expected value.
 *
 * @since 0.1.0
 */
export const dns = (
  name: string,
  options: {
    readonly servers: ReadonlyArray<string>
    readonly type?: "A" | "AAAA" | "CNAME" | "TXT"
    readonly expect?: ReadonlyArray<string>
    readonly timeout?: Duration.Input
  }
): Probe.Probe => {
  const type = options.type ?? "A"
  const timeout = options.timeout ?? "2 seconds"
  return Probe.make(
    `dns ${type} ${name} @${options.servers.join(",")}`,
    Effect.callback<ReadonlyArray<string>, Error>((resume) => {
      const resolver = new Resolver({ timeout: Duration.toMillis(Duration.fromInputUnsafe(timeout)), tries: 1 })
      resolver.setServers([...options.servers])
      const done = (err: Error | null, records: ReadonlyArray<unknown>) => {
        if (err) return resume(Effect.fail(err))
        const answer = records.map((r) => (Array.isArray(r) ? r.join("") : String(r))).sort()
        const missing = (options.expect ?? []).filter((e) => !answer.includes(e))
        resume(missing.length > 0 ? Effect.fail(new Error(`answer ${answer.join(",")} lacks ${missing.join(",")}`)) : Effect.succeed(answer))
      }
      resolver.resolve(name, type, done as any)
      return Effect.sync(() => resolver.cancel())
    }),
    { timeout, spec: { kind: "dns", params: { name, type, servers: [...options.servers], expect: options.expect ? [...options.expect] : null } } }
  )
}
