/**
 * What test suites import: the in-memory driver, its fault and probe, and a test run context.
 *
 * @since 0.1.0
 */
export { breakTargets, healthy, MemoryBreak, MemoryDriver } from "./MemoryDriver.ts"
export type { MemoryState } from "./MemoryDriver.ts"
export { layerTest as runLayer } from "../core/Run.ts"
