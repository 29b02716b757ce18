/**
 * The Probe namespace: the probe model (core/Probe) and the target-agnostic probes built
 * on it (http, tcp, dns, command).
 *
 * @since 0.1.0
 */
export * from "../core/Probe.ts"
export { command } from "./Command.ts"
export { http_ as http, request } from "./Http.ts"
export type { HttpResponse } from "./Http.ts"
export { tcp } from "./Tcp.ts"
export { dns } from "./Dns.ts"
