/**
 * The replication link's proxy, on a Toxiproxy-compatible API (the embedded proxy by
 * default): the standby streams through it, so the network faults (`network.down`,
 * `network.latency`, `network.bandwidth`, selected by the proxy's name) act on replication.
 * Plain HTTP here: a target never imports another target.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import { PostgresError } from "../PostgresError.ts"

/** A Toxiproxy API and its write token. @since 0.1.0 */
export interface Api {
  readonly url: string
  readonly token: string | null
}

const call = (api: Api, method: string, route: string, body: unknown, target: string) =>
  Effect.tryPromise({
    try: async () => {
      const res = await fetch(`${api.url}${route}`, {
        method,
        headers: { "content-type": "application/json", ...(api.token ? { authorization: `Bearer ${api.token}` } : {}) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) })
      })
      const text = await res.text()
      if (!res.ok && !(method === "DELETE" && res.status === 404)) throw new Error(`HTTP ${res.status}: ${text.slice(0, 200)}`)
      return text === "" ? {} : JSON.parse(text) as { listen?: string }
    },
    catch: (e) => new PostgresError({ reason: "Unavailable", target, operation: "replicationProxy", detail: (e as Error).message })
  })

/** Creates the proxy `name` in front of `upstream`; returns its listen port. @since 0.1.0 */
export const create = (api: Api, name: string, upstream: string): Effect.Effect<number, PostgresError> =>
  Effect.map(call(api, "POST", "/proxies", { name, listen: "127.0.0.1:0", upstream, enabled: true }, name), (p) => Number(String(p.listen).split(":").at(-1)))

/** Points the proxy at another upstream (the new writer after a failover). @since 0.1.0 */
export const retarget = (api: Api, name: string, upstream: string): Effect.Effect<void, PostgresError> =>
  Effect.asVoid(call(api, "POST", `/proxies/${encodeURIComponent(name)}`, { upstream }, name))

/** Deletes the proxy (a missing one is a no-op). @since 0.1.0 */
export const remove = (api: Api, name: string): Effect.Effect<void, PostgresError> =>
  Effect.asVoid(call(api, "DELETE", `/proxies/${encodeURIComponent(name)}`, undefined, name))
