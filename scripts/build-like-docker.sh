#!/usr/bin/env bash
# Runs the Dockerfile's build steps without Docker (no engine on some machines): a clean copy of
# the sources, `npm ci`, build, prune to production dependencies, then the runtime stage's
# layout, started as in the image and probed on /healthz like its HEALTHCHECK.
#   scripts/build-like-docker.sh [output dir]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$(mktemp -d)}"
build="$out/build"
runtime="$out/runtime"
rm -rf "$build" "$runtime"
mkdir -p "$build" "$runtime/data"

image_node="$(sed -n 's/^FROM node:\([0-9]*\)-.* AS runtime$/\1/p' "$root/Dockerfile")"
local_node="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$image_node" != "$local_node" ]; then
  echo "note: the image runs Node $image_node, this runs Node $local_node (put Node $image_node first on PATH to match;"
  echo "  on 24.19 or later, with npm_config_nodedir set to Node 24.18.1's headers, as .ci/run and the Dockerfile do)"
fi

echo "== build stage in $build"
cp "$root/package.json" "$root/package-lock.json" "$build/"
(cd "$build" && npm ci --no-audit --no-fund --ignore-scripts && npm rebuild better-sqlite3)
cp "$root/tsconfig.json" "$root/tsconfig.build.json" "$root/nest-cli.json" "$build/"
cp -r "$root/src" "$build/src"
cp -r "$root/console" "$build/console"
mkdir -p "$build/scripts" && cp "$root/scripts/build-console.js" "$build/scripts/"
(cd "$build" && npm run build && npm prune --omit=dev --no-audit --no-fund)

echo "== runtime stage in $runtime"
cp "$build/package.json" "$runtime/"
cp -r "$build/node_modules" "$build/dist" "$runtime/"
cp -r "$root/rules" "$runtime/rules"
if [ -d "$runtime/node_modules/typescript" ] || [ -d "$runtime/node_modules/jest" ]; then
  echo "development dependencies leaked into the runtime stage" >&2
  exit 1
fi
# The framework packages are peer dependencies (a host app brings its own): the service needs them.
for peer in $(node -p 'Object.keys(require(process.argv[1]).peerDependencies).join(" ")' "$root/package.json"); do
  if [ ! -f "$runtime/node_modules/$peer/package.json" ]; then
    echo "the runtime stage lacks $peer (a peer dependency pruned as a development one?)" >&2
    exit 1
  fi
done

echo "== start as the image does, and probe /healthz"
port="${PORT:-3917}"
(cd "$runtime" && NODE_ENV=production DATA_DIR="$runtime/data" PORT="$port" \
  OPENAI_WEBHOOK_SECRET="whsec_$(head -c 32 /dev/urandom | base64)" node dist/main.js >"$out/runtime.log" 2>&1) &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
  if node -e "fetch('http://127.0.0.1:$port/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"; then
    echo "healthy: runtime stage of $(du -sh "$runtime" | cut -f1) in $runtime"
    exit 0
  fi
  sleep 0.2
done
echo "the runtime stage did not become healthy; its log:" >&2
cat "$out/runtime.log" >&2
exit 1
