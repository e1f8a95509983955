// Copy the livekit-client ESM build into the console's static/vendor/ (served locally, no CDN).
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const target = join(here, "..", "src", "switchboard", "console", "static", "vendor");
const source = join(here, "node_modules", "livekit-client", "dist");

mkdirSync(target, { recursive: true });
for (const name of ["livekit-client.esm.mjs"]) {
  copyFileSync(join(source, name), join(target, name));
}
console.log(`copied livekit-client into ${target}`);
