/**
 * The Probe namespace: the core probe model plus the target-agnostic probes.
 *
 * @since 0.1.0
 */
export * from "../core/Probe.ts"
export * from "./index.ts"
