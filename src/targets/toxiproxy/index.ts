/**
 * The Toxiproxy target (`faultline/toxiproxy`): the driver, network faults, probes of proxy
 * state, the API shapes, and the embedded Toxiproxy-compatible proxy.
 *
 * @since 0.1.0
 */
export * from "./Api.ts"
export * from "./Faults.ts"
export * from "./Probes.ts"
export * from "./ToxiproxyDriver.ts"
export * from "./ToxiproxyError.ts"
export { EmbeddedProxy, EmbeddedProxyError } from "../../proxy/EmbeddedProxy.ts"
export * from "./Embedded.ts"
