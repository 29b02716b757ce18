/**
 * The TCP connect probe.
 *
 * @since 0.1.0
 */
import * as net from "node:net"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Probe from "../core/Probe.ts"

/**
 * A probe that opens a TCP connection to `host:port` and closes it; good when it connects.
 * `host` and `port` may be `Dynamic` (resolved at every sample), e.g.
 * `Probe.tcp("127.0.0.1", Process.port("backend"))` follows a process that a restart moved.
 *
 * @since 0.1.0
 */
export const tcp = <R = never>(
  host: string | Probe.Dynamic<string, R>,
  port: number | Probe.Dynamic<number, R>,
  options?: { readonly timeout?: Duration.Input }
): Probe.Probe<R> =>
  Probe.make(
    `tcp ${Probe.textOf(host)}:${Probe.textOf(port)}`,
    Effect.flatMap(Effect.zip(Probe.resolve(host), Probe.resolve(port)), ([h, p]) => connect(h, p)),
    { timeout: options?.timeout ?? "2 seconds", spec: { kind: "tcp", params: { host: Probe.textOf(host), port: Probe.isDynamic(port) ? port.text : port } } }
  )

const connect = (host: string, port: number) =>
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
  })
