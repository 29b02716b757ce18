/**
 * Target-agnostic probes.
 *
 * @since 0.1.0
 */
export { command } from "./Command.ts"
export { http_ as http, request } from "./Http.ts"
export type { HttpResponse } from "./Http.ts"
export { tcp } from "./Tcp.ts"
export { dns } from "./Dns.ts"
