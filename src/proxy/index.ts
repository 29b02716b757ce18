/**
 * The embedded Toxiproxy-compatible fault proxy.
 *
 * @since 0.1.0
 */
export * from "./EmbeddedProxy.ts"
export { EmbeddedServer, localToken, parseListen, type ServerOptions, VERSION } from "./Server.ts"
export * as ApiGuard from "./ApiGuard.ts"
