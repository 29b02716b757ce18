/**
 * `faultline proxy`: the embedded Toxiproxy-compatible fault proxy, until Ctrl-C. Loaded only
 * when the proxy runs.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as EmbeddedProxy from "../../proxy/EmbeddedProxy.ts"
import { BadInput } from "../State.ts"

/**
 * Starts the proxy, prints how to reach it and how writes authenticate, and runs until interrupted.
 *
 * @since 0.1.0
 */
export const proxy = (args: {
  readonly listen: string
  readonly token: boolean
  readonly tokenFile: Option.Option<string>
  readonly allowNonLoopbackProxies: boolean
}) =>
  Effect.gen(function*() {
    const bad = EmbeddedProxy.validateListen(args.listen)
    if (bad !== null) return yield* new BadInput({ message: `--listen ${JSON.stringify(args.listen)}: ${bad} (expected host:port, e.g. 127.0.0.1:8474)` })
    // $FAULTLINE_PROXY_TOKEN lets the proxy and the runs that use it share one secret.
    const fromEnv = process.env.FAULTLINE_PROXY_TOKEN
    const given = args.token && fromEnv !== undefined && fromEnv !== "" ? fromEnv : undefined
    const { server, token, url } = yield* EmbeddedProxy.start(args.listen, {
      token: args.token ? given : null,
      allowNonLoopbackProxies: args.allowNonLoopbackProxies
    }).pipe(Effect.mapError((e) => new BadInput({ message: `--listen ${JSON.stringify(args.listen)}: ${e.detail}` })))
    const port = server.address()!.port
    const say = (line: string) => process.stdout.write(`faultline proxy: ${line}\n`)
    say(`Toxiproxy-compatible API listening on ${url}`)
    if (token === null) {
      say("writes need no token (--no-token): any local process may add faults through this API")
    } else if (given !== undefined) {
      say(
        "writes need the token of $FAULTLINE_PROXY_TOKEN: send `Authorization: Bearer $FAULTLINE_PROXY_TOKEN`, or use the base URL " +
          `${url}/token/$FAULTLINE_PROXY_TOKEN; faultline run and recover read $FAULTLINE_PROXY_TOKEN`
      )
    } else {
      const file = Option.getOrElse(args.tokenFile, () => EmbeddedProxy.defaultTokenFile(port))
      yield* EmbeddedProxy.writeTokenFile(file, token).pipe(
        Effect.mapError((e) => new BadInput({ message: `--token-file ${JSON.stringify(file)}: ${e.detail}` }))
      )
      say(`writes need the API token in ${file} (0600, removed on exit)`)
      say(`  curl:     -H "Authorization: Bearer $(cat ${file})"`)
      say(`  faultline run / recover:  export FAULTLINE_PROXY_TOKEN=$(cat ${file})`)
      say(`  clients that take only a base URL:  ${url}/token/$(cat ${file})`)
    }
    return yield* Effect.never
  }).pipe(Effect.scoped)
