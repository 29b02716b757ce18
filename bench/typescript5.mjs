/**
 * Loaded into Stryker's type-checker processes (`checkerNodeArgs`) by stryker.config.mjs.
 *
 * The project compiles with TypeScript 7, whose package has no compiler API, while
 * @stryker-mutator/typescript-checker calls the TypeScript 5 API (`ts.createProgram`...).
 * TypeScript 5.9 is installed as the `typescript5` alias and handed to the checker only;
 * every other import of "typescript" still resolves to TypeScript 7.
 */
import { registerHooks } from "node:module"

registerHooks({
  resolve(specifier, context, nextResolve) {
    const fromChecker = context.parentURL?.includes("/@stryker-mutator/typescript-checker/") ?? false
    if (fromChecker && (specifier === "typescript" || specifier.startsWith("typescript/"))) {
      return nextResolve(specifier.replace(/^typescript/, "typescript5"), context)
    }
    return nextResolve(specifier, context)
  }
})
