// `faultline runner` and `faultline submit` refuse bad input with one line and exit 2: a
// connection string that is not PostgreSQL, a bad --listen, a database that does not answer
// (named without its password).
import { describe, expect, it } from "vitest"
import { faultline } from "../drill/helpers.ts"

describe("faultline runner / submit: bad input", () => {
  it("--db must be a postgres:// connection string", async () => {
    const r = await faultline(["runner", "--db", "mysql://x"])
    expect(r.code).toBe(2)
    expect(r.stderr).toBe("faultline: --db: expected a postgres:// connection string\n")
  })

  it("--listen must be HOST:PORT", async () => {
    const r = await faultline(["runner", "--db", "postgres://u:pw@127.0.0.1:1/db", "--listen", "nope"])
    expect(r.code).toBe(2)
    expect(r.stderr).toBe("faultline: --listen nope: expected HOST:PORT, e.g. 127.0.0.1:34431\n")
  })

  it("a bad --schedule file is refused before the runner joins", async () => {
    const r = await faultline([
      "runner",
      "--db",
      "postgres://u:pw@127.0.0.1:1/db",
      "--schedule",
      "test/durable/fixtures/resume.md",
      "--out",
      "/tmp/faultline-durable-cli-out"
    ])
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split("\n")).toHaveLength(1)
    expect(r.stderr).toMatch(/^faultline: .*resume\.md/)
  })

  it("a database that does not answer: one line naming it, never its password", async () => {
    const r = await faultline(["submit", "test/durable/fixtures/resume.md", "--db", "postgres://u:secretpw@127.0.0.1:1/db"])
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split("\n")).toHaveLength(1)
    expect(r.stderr).toMatch(/^faultline: --db postgres 127\.0\.0\.1:1\/db: /)
    expect(r.stderr).not.toContain("secretpw")
  })
})
