import * as Watchdog from "./watchdog.ts"
import { table } from "./stats.ts"
const rows = await Watchdog.run({ trials: 60, log: (l) => process.stdout.write(l + "\n") })
process.stdout.write(table(rows) + "\n")
