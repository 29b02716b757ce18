/**
 * How a network fault becomes a Toxiproxy toxic.
 *
 * @since 0.1.0
 */
import type { NetworkDown, NetworkFault } from "./Faults.ts"

/**
 * The Toxiproxy toxic a fault becomes: type, stream, toxicity, attributes and name.
 *
 * @since 0.1.0
 */
export const toToxic = (f: Exclude<NetworkFault, NetworkDown>) => {
  const [type, attributes]: [string, Record<string, number>] = f._tag === "network.latency" ?
    ["latency", { latency: f.latency, jitter: f.jitter }]
    : f._tag === "network.bandwidth" ?
    ["bandwidth", { rate: f.rate }]
    : f._tag === "network.timeout" ?
    ["timeout", { timeout: f.timeout }]
    : f._tag === "network.resetPeer" ?
    ["reset_peer", { timeout: f.timeout }]
    : f._tag === "network.slicer" ?
    ["slicer", { average_size: f.averageSize, size_variation: f.sizeVariation, delay: f.delayMicros }]
    : ["limit_data", { bytes: f.bytes }]
  return { name: f.name ?? `faultline_${type}_${f.stream}`, type, stream: f.stream, toxicity: f.toxicity, attributes }
}
