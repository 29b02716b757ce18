/**
 * Integration tests need real components (Docker Engine, Toxiproxy, moto, PostgreSQL).
 * When a component is absent the suite is skipped with the reason in its name — unless
 * FAULTLINE_REQUIRE_INTEGRATION=1 (set by .ci/run), where absence is a failure.
 */
import { describe, it } from "vitest"

export const REQUIRED = process.env.FAULTLINE_REQUIRE_INTEGRATION === "1"

/**
 * `describe` for a suite that needs a component: `available` is the reason it is missing,
 * or null when it is there.
 */
export const describeWith = (component: string, missing: string | null, body: () => void) => {
  if (missing === null) return describe(component, body)
  if (REQUIRED) {
    return describe(component, () => {
      it(`${component} is required here (FAULTLINE_REQUIRE_INTEGRATION=1) but ${missing}`, () => {
        throw new Error(`${component} unavailable: ${missing}`)
      })
    })
  }
  return describe.skip(`${component} — skipped: ${missing}`, body)
}
