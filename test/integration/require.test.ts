import { describe, expect, it } from "vitest"
import { describeWith, REQUIRED } from "./require.ts"

describe("describeWith", () => {
  it("reads FAULTLINE_REQUIRE_INTEGRATION", () => {
    expect(REQUIRED).toBe(process.env.FAULTLINE_REQUIRE_INTEGRATION === "1")
  })
})

// A present component runs its body.
let ran = false
describeWith("always-present component", null, () => {
  it("runs", () => {
    ran = true
    expect(ran).toBe(true)
  })
})
