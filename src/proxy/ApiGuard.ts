/**
 * What a local HTTP API started by faultline refuses before it routes a request: what a web
 * page in the user's browser can send (a browser User-Agent, a foreign `Origin`), what a
 * DNS-rebinding name can send (a `Host` that is neither loopback, `localhost` nor the listen
 * address), and writes without the API token. The embedded proxy's API uses it; any other
 * local server faultline starts should too.
 *
 * @since 0.1.0
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto"
import type * as http from "node:http"
import * as net from "node:net"
import * as os from "node:os"

/**
 * The largest request body the API reads (1 MiB); a larger one is answered 413.
 *
 * @since 0.1.0
 */
export const MAX_BODY = 1 << 20

/**
 * A fresh random API token (32 bytes, base64url).
 *
 * @since 0.1.0
 */
export const newToken = (): string => randomBytes(32).toString("base64url")

/**
 * True for 127.0.0.0/8, `::1`, IPv4-mapped loopback and `localhost`.
 *
 * @since 0.1.0
 */
export const isLoopback = (host: string): boolean => {
  const h = host.toLowerCase()
  if (h === "localhost" || h === "::1") return true
  const v4 = h.startsWith("::ffff:") ? h.slice(7) : h
  return net.isIPv4(v4) && v4.startsWith("127.")
}

const isWildcard = (host: string) => host === "0.0.0.0" || host === "::" || host === ""

/** The host part of a `Host` header, lower-cased, brackets removed; null when malformed. */
const hostOf = (header: string): string | null => {
  const h = header.trim().toLowerCase()
  if (h.startsWith("[")) {
    const end = h.indexOf("]")
    if (end < 0) return null
    const rest = h.slice(end + 1)
    if (rest !== "" && !/^:\d*$/.test(rest)) return null
    return h.slice(1, end)
  }
  const i = h.indexOf(":")
  if (i < 0) return h
  if (!/^:\d*$/.test(h.slice(i))) return null
  return h.slice(0, i)
}

const localAddresses = (): Set<string> => new Set(Object.values(os.networkInterfaces()).flatMap((l) => (l ?? []).map((a) => a.address.toLowerCase())))

/**
 * Whether a `Host` header may reach a server listening on `listenHost`: loopback addresses,
 * `localhost` and the listen address itself, with or without a port. A server on a wildcard
 * address (`0.0.0.0`, `::`) also accepts this machine's own interface addresses. DNS names
 * other than `localhost` are refused, whatever they resolve to: that is what defeats DNS
 * rebinding. A request without `Host` (HTTP/1.0) is not a browser's and is accepted.
 *
 * @since 0.1.0
 */
export const hostAllowed = (header: string | undefined, listenHost: string): boolean => {
  if (header === undefined) return true
  const host = hostOf(header)
  if (host === null || host === "") return false
  if (isLoopback(host)) return true
  const listen = listenHost.toLowerCase()
  if (host === listen) return true
  return isWildcard(listen) && net.isIP(host) !== 0 && localAddresses().has(host)
}

/**
 * Whether an `Origin` header may reach a server whose own origin is `ownOrigin`
 * (`http://127.0.0.1:8474`): only that origin, or no `Origin` at all. The API serves no page,
 * so any other origin (`null` included) is a page elsewhere acting through the browser.
 *
 * @since 0.1.0
 */
export const originAllowed = (header: string | undefined, ownOrigin: string): boolean => header === undefined || header === ownOrigin

/**
 * True when the User-Agent is a browser's (`Mozilla/...`), which Toxiproxy 2.12 refuses too.
 *
 * @since 0.1.0
 */
export const isBrowser = (userAgent: string | undefined): boolean => (userAgent ?? "").startsWith("Mozilla/")

const digest = (s: string) => createHash("sha256").update(s).digest()

/**
 * Compares a presented token with the expected one in constant time.
 *
 * @since 0.1.0
 */
export const tokenMatches = (presented: string, expected: string): boolean => timingSafeEqual(digest(presented), digest(expected))

/**
 * The token of an `Authorization: Bearer TOKEN` header, or null.
 *
 * @since 0.1.0
 */
export const bearer = (req: http.IncomingMessage): string | null => {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "")
  return m ? m[1]! : null
}

/**
 * Splits a request target into its path segments, percent-decoded; null when an escape is
 * malformed (`%zz`, a cut `%2`, bytes that are not UTF-8), which the API answers 400.
 *
 * @since 0.1.0
 */
export const pathSegments = (target: string): Array<string> | null => {
  const q = target.indexOf("?")
  const path = q >= 0 ? target.slice(0, q) : target
  const out: Array<string> = []
  for (const p of path.split("/")) {
    if (p === "") continue
    if (/%(?![0-9A-Fa-f]{2})/.test(p)) return null
    try {
      out.push(decodeURIComponent(p))
    } catch {
      return null
    }
  }
  return out
}
