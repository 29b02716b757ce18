/**
 * The embedded Toxiproxy-compatible fault proxy.
 *
 * @since 0.1.0
 */
export * from "./EmbeddedProxy.ts"
export { EmbeddedServer, parseListen, VERSION } from "./Server.ts"
