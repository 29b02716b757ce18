/**
 * The process target: driver, faults and errors.
 *
 * @since 0.1.0
 */
export * from "./Faults.ts"
export * from "./ProcessDriver.ts"
export * from "./ProcessError.ts"
export * from "./Address.ts"
