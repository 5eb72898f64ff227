// Builds the dashboard into dist/: index.html, assets/app.js, assets/app.css
// and assets/favicon.svg.
//
// The output is deterministic so the embedded binary is reproducible: fixed
// file names (no content hashes; the Go server sets cache headers), no
// timestamps or source maps, and esbuild's exact version is pinned in
// package-lock.json. `node build.mjs --check` builds twice into temporary
// directories and fails if the bytes differ.
import * as esbuild from "esbuild";
import { createHash } from "node:crypto";
import { cp, mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));

async function build(out) {
  await mkdir(join(out, "assets"), { recursive: true });
  await esbuild.build({
    absWorkingDir: here,
    entryPoints: { app: "src/main.js" },
    outdir: join(out, "assets"),
    bundle: true,
    minify: true,
    format: "esm",
    target: ["es2022"],
    charset: "utf8",
    legalComments: "eof", // uPlot is MIT: keep its notice
    sourcemap: false,
    metafile: false,
    logLevel: "warning",
  });
  await cp(join(here, "src", "index.html"), join(out, "index.html"));
  await cp(join(here, "src", "favicon.svg"), join(out, "assets", "favicon.svg"));
}

// clean empties dist/ but keeps .keep, which lets go:embed compile on a
// fresh clone where the UI was never built.
async function clean(dir) {
  await mkdir(dir, { recursive: true });
  for (const name of await readdir(dir)) {
    if (name !== ".keep") await rm(join(dir, name), { recursive: true, force: true });
  }
}

async function digest(dir) {
  const h = createHash("sha256");
  for (const f of ["index.html", "assets/app.js", "assets/app.css", "assets/favicon.svg"]) {
    h.update(f + "\0").update(await readFile(join(dir, f)));
  }
  return h.digest("hex");
}

if (process.argv.includes("--check")) {
  const [a, b] = [await mkdtemp(join(tmpdir(), "ui-a-")), await mkdtemp(join(tmpdir(), "ui-b-"))];
  await build(a);
  await build(b);
  const [da, db] = [await digest(a), await digest(b)];
  await Promise.all([rm(a, { recursive: true }), rm(b, { recursive: true })]);
  if (da !== db) {
    console.error(`build is not deterministic: ${da} != ${db}`);
    process.exit(1);
  }
  console.log(`deterministic: sha256 ${da}`);
} else {
  const dist = join(here, "dist");
  await clean(dist);
  await build(dist);
  console.log(`built ${dist} (sha256 ${await digest(dist)})`);
}
