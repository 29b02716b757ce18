/**
 * The TCP connect probe.
 *
 * @since 0.1.0
 */
import * as net from "node:net"
import { Duration, Effect } from "effect"
import * as Probe from "../core/Probe.ts"

/**
 * A probe that opens a TCP connection to `host:port` and closes it; good when it connects.
 *
 * @since 0.1.0
 */
export const tcp = (host: string, port: number, options?: { readonly timeout?: Duration.Input }): Probe.Probe =>
  Probe.make(
    `tcp ${host}:${port}`,
    Effect.callback<true, Error>((resume) => {
      const socket = net.connect({ host, port })
      socket.once("connect", () => {
        socket.destroy()
        resume(Effect.succeed(true))
      })
      socket.once("error", (e) => {
        socket.destroy()
        resume(Effect.fail(e))
      })
      return Effect.sync(() => socket.destroy())
    }),
    { timeout: options?.timeout ?? "2 seconds", spec: { kind: "tcp", params: { host, port } } }
  )
