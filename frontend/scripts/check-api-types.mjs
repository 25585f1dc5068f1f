// Fails when src/api/schema.d.ts is not what `npm run gen:api` makes of the committed
// OpenAPI document, so that the UI's API types never drift from the server.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dir = mkdtempSync(join(tmpdir(), "api-types-"));
const fresh = join(dir, "schema.d.ts");
try {
  execFileSync("npx", ["openapi-typescript", "../schemas/openapi.json", "-o", fresh], {
    stdio: "ignore",
  });
  const committed = readFileSync("src/api/schema.d.ts", "utf8");
  if (readFileSync(fresh, "utf8") !== committed) {
    console.error(
      "src/api/schema.d.ts is out of date with schemas/openapi.json: run `npm run gen:api`",
    );
    process.exit(1);
  }
  console.log("API types match schemas/openapi.json");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
