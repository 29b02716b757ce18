/**
 * The Docker target (`faultline/docker`): driver, faults, probes, errors and recovery.
 * Needs the optional peer dependency `dockerode`.
 *
 * @since 0.1.0
 */
export * from "./DockerDriver.ts"
export * from "./DockerError.ts"
export * from "./Faults.ts"
export * as Probes from "./Probes.ts"
export * from "./Recover.ts"
