import { describe, expect, it } from "vitest"
import { type Kind, type Point, trial, type TrialResult } from "../fixtures/crashTrial.ts"

// Runner death: the runner (a real process) is SIGKILLed at each point of a fault's life,
// for process faults; the watchdog must leave zero faults and close the run every time.
const points: ReadonlyArray<Point> = ["before-intent", "after-intent", "after-injection", "during-revert"]
const kinds: ReadonlyArray<Kind> = ["pause", "kill"]
const REPEATS = 4 // 4 points x 2 kinds x 4 = 32 trials

describe("runner SIGKILLed at random points: the watchdog reverts everything", () => {
  it("32 trials leave zero faults open", { timeout: 240_000 }, async () => {
    const plan: Array<[Point, Kind]> = []
    for (let i = 0; i < REPEATS; i++) for (const p of points) for (const k of kinds) plan.push([p, k])
    // Shuffled (seeded, so a failure can be replayed): points and kinds in random order.
    let seed = 20261122
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
    for (let i = plan.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1))
      ;[plan[i], plan[j]] = [plan[j]!, plan[i]!]
    }
    const results: Array<TrialResult> = []
    for (const [p, k] of plan) results.push(await trial(p, k))
    const bad = results.filter((r) => r.openAfter !== 0 || !r.victimOk || !r.runClosed)
    expect(bad).toEqual([])
    expect(results.length).toBeGreaterThanOrEqual(30)
    const ms = results.map((r) => r.killToRevertMs).sort((a, b) => a - b)
    console.log(
      `crash trials: ${results.length}; kill -> reverted ms p50 ${ms[Math.floor(ms.length / 2)]!.toFixed(0)}, max ${ms.at(-1)!.toFixed(0)}`
    )
  })
})
