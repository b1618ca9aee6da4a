#!/usr/bin/env bash
# make bench: whole-process timings of gen-manifests (hyperfine, median of
# many runs) and peak memory (GNU time), for the default bundle (paired
# with /bin/true, the process floor), the recommended preset, and generated
# specs of 100, 1,000 and 10,000 apps, against kubectl kustomize on the same
# objects;
# simulate on a 24 h trace and sweeps of 100 settings, with their targets
# (a missed target fails the bench).
# Not part of `make test`: timings depend on the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=target/release/gen-manifests
WORK=target/bench
mkdir -p "$WORK"
command -v hyperfine >/dev/null || { echo "hyperfine is missing: apt-get install -y hyperfine"; exit 2; }
[ -x /usr/bin/time ] || { echo "GNU time is missing: apt-get install -y time"; exit 2; }

for n in 100 1000 10000; do
  {
    echo "preset: recommended"
    echo "apps:"
    for i in $(seq 1 "$n"); do
      printf -- "- name: app-%d\n  namespace: ns-%d\n  targetAverageValue: \"10\"\n  maxReplicas: 10\n" "$i" $((i % 50))
    done
  } > "$WORK/apps-$n.yaml"
done

median_ms() { python3 -c "import json,sys; print('%.2f' % (json.load(open(sys.argv[1]))['results'][0]['median']*1000))" "$1"; }
peak_mb() { /usr/bin/time -f "%M" "$@" 2>&1 >/dev/null | tail -1 | awk '{printf "%.1f", $1/1024}'; }

printf "%-28s %12s %12s\n" "case" "median ms" "peak MB"
run() {
  local name=$1; shift
  hyperfine --style none --warmup 5 --min-runs 30 --export-json "$WORK/$name.json" -N "$*" >/dev/null 2>&1 \
    || hyperfine --style none --warmup 5 --min-runs 30 --export-json "$WORK/$name.json" "$* > /dev/null" >/dev/null
  printf "%-28s %12s %12s\n" "$name" "$(median_ms "$WORK/$name.json")" "$(peak_mb "$@")"
}
run default-bundle "$BIN"
run recommended "$BIN" --preset recommended
for n in 100 1000 10000; do
  run "apps-$n" "$BIN" -c "$WORK/apps-$n.yaml"
done
# simulate: a 24 h trace at 15 s steps (5,761 rows: a diurnal curve with a
# 10-minute ripple and a half-hour spike), one run and sweeps of 100 settings.
python3 - "$WORK/day.csv" <<'PY'
import math, sys
with open(sys.argv[1], "w") as f:
    f.write("seconds,requests_per_second\n")
    for t in range(0, 86400 + 1, 15):
        load = 110 - 90 * math.cos(2 * math.pi * t / 86400) + 15 * math.sin(2 * math.pi * t / 600)
        load += 150 if 43200 <= t < 45000 else 0
        f.write(f"{t},{load:.3f}\n")
PY
SIM=("$BIN" simulate -c fixtures/simulate/spec.yaml --app web --load "$WORK/day.csv")
run simulate-24h-15s "${SIM[@]}" --format json
run sweep-100-targets "${SIM[@]}" --capacity 15 --format json --sweep "target=$(seq -s, 1 100)"
run sweep-10x10-grid "${SIM[@]}" --capacity 15 --format json \
  --sweep "target=$(seq -s, 5 5 50)" --sweep "maxReplicas=$(seq -s, 10 10 100)"
# The targets (wall-clock median); a miss fails the bench. CPU time
# (user + system, mean) shows how much of it is the machine's load.
python3 - "$WORK" <<'PY'
import json, sys
work, failed = sys.argv[1], False
for name, target_ms in (("simulate-24h-15s", 100), ("sweep-100-targets", 5000), ("sweep-10x10-grid", 5000)):
    result = json.load(open(f"{work}/{name}.json"))["results"][0]
    median, cpu = result["median"] * 1000, (result["user"] + result["system"]) * 1000
    ok = median < target_ms
    failed |= not ok
    print(f"{name:<20} median {median:7.1f} ms (cpu {cpu:6.1f} ms)  target < {target_ms} ms  {'ok' if ok else 'MISSED'}")
sys.exit(1 if failed else 0)
PY
# Streamed render (issue #11). The process floor: /bin/true and the default
# bundle, interleaved in one hyperfine run so both see the same machine.
hyperfine --style none -N --warmup 20 --min-runs 300 --export-json "$WORK/floor.json" \
  /bin/true "$BIN" >/dev/null
# kubectl kustomize building the same objects from --out-dir: the default
# bundle (11 objects), 100 and 1,000 apps.
rm -rf "$WORK/out-default" && "$BIN" --out-dir "$WORK/out-default"
hyperfine --style none --warmup 1 --min-runs 5 --export-json "$WORK/kustomize-default.json" \
  "kubectl kustomize $WORK/out-default > /dev/null" >/dev/null
for n in 100 1000; do
  rm -rf "$WORK/out-$n" && "$BIN" -c "$WORK/apps-$n.yaml" --out-dir "$WORK/out-$n"
  hyperfine --style none --warmup 1 --min-runs 5 --export-json "$WORK/kustomize-$n.json" \
    "kubectl kustomize $WORK/out-$n > /dev/null" >/dev/null
  printf "%-28s %12s %12s\n" "kubectl-kustomize-$n" "$(median_ms "$WORK/kustomize-$n.json")" \
    "$(peak_mb kubectl kustomize "$WORK/out-$n")"
done
peak_mb "$BIN" -c "$WORK/apps-10000.yaml" > "$WORK/apps-10000.peak"
python3 - "$WORK" <<'PY'
import json, sys
work, failed = sys.argv[1], False
def result(name, index=0):
    return json.load(open(f"{work}/{name}.json"))["results"][index]
def report(what, figure, target, ok):
    global failed
    failed |= not ok
    print(f"{what:<44} {figure:>14}  target {target:<12} {'ok' if ok else 'MISSED'}")
floor, default = result("floor", 0)["median"], result("floor", 1)["median"]
report("default bundle / process floor (/bin/true)", f"{default / floor:.2f}x", "<= 1.5x",
       default <= 1.5 * floor)
print(f"{'':<6}(/bin/true {floor * 1000:.2f} ms, default bundle {default * 1000:.2f} ms, medians of one paired run)")
apps = {n: result(f"apps-{n}")["median"] for n in (100, 1000, 10000)}
report("10,000 apps, median", f"{apps[10000] * 1000:.1f} ms", "< 250 ms", apps[10000] < 0.25)
tenk = result("apps-10000")
print(f"{'':<6}(CPU, user + system, mean: {(tenk['user'] + tenk['system']) * 1000:.1f} ms; the rest of the wall time is the machine's load)")
peak = float(open(f"{work}/apps-10000.peak").read())
report("10,000 apps, peak RSS", f"{peak:.1f} MiB", "< 64 MiB", peak < 64)
ours = {"default": default, "100": apps[100], "1000": apps[1000]}
for n, label in (("default", "11 objects (default bundle)"), ("100", "100 apps"), ("1000", "1,000 apps")):
    kustomize = result(f"kustomize-{n}")["median"]
    ratio = kustomize / ours[n]
    report(f"vs kubectl kustomize, {label}", f"{ratio:.0f}x faster", ">= 40x", ratio >= 40)
print(f"growth 100->1000: {apps[1000]/apps[100]:.1f}x, 1000->10000: {apps[10000]/apps[1000]:.1f}x (10x more apps each)")
sys.exit(1 if failed else 0)
PY
# Hostile and unlucky inputs at the documented limits (issue #12): each must
# finish in under 2 s and 100 MiB, whatever its exit status. One run each
# (GNU time: wall seconds, peak KiB); a miss fails the bench.
H="$WORK/hostile"; rm -rf "$H"; mkdir -p "$H"
printf '0,10\n1e15,10\n' > "$H/far.csv"
sed 's/maxReplicas: 20/maxReplicas: 2000000000/' fixtures/simulate/spec.yaml > "$H/huge-max.yaml"
truncate -s 1G "$H/huge-spec.yaml"
"$BIN" -c fixtures/specs/custom-rules.yaml > "$H/stale.yaml"
python3 - "$H/stale.yaml" <<'PY'
import sys
p = sys.argv[1]; text = open(p).read().replace("  replicas: 2\n", "  replicas: 3\n", 1)
open(p, "w").write(text + "\n" * (2_400_000 - len(text)))
PY
mkdir -p "$H/deploy" && "$BIN" -c fixtures/specs/custom-rules.yaml --out-dir "$H/deploy"
f=$(ls "$H"/deploy/deployment-*.yaml | head -1); cp "$H/stale.yaml" "$f"
SIMH=("$BIN" simulate -c fixtures/simulate/spec.yaml --app web)
hostile() {
  local name=$1; shift
  /usr/bin/time -o "$H/time" -f "%e %M" "$@" > /dev/null 2>&1 || true
  echo "$name $(tail -1 "$H/time")"
}
{
  hostile far-timestamps-csv "${SIMH[@]}" --load "$H/far.csv"
  hostile max-replicas-2e9 "$BIN" simulate -c "$H/huge-max.yaml" --app web --load fixtures/simulate/step.csv
  hostile pod-startup-u64-max "${SIMH[@]}" --load fixtures/simulate/step.csv --pod-startup 18446744073709551615
  hostile spec-1GiB-sparse "$BIN" -c "$H/huge-spec.yaml"
  hostile spec-dev-zero "$BIN" -c /dev/zero
  hostile check-2.4MB-stale "$BIN" -c fixtures/specs/custom-rules.yaml check "$H/stale.yaml"
  hostile out-dir-check-2.4MB "$BIN" -c fixtures/specs/custom-rules.yaml --out-dir "$H/deploy" --check
  hostile out-dir-2.4MB "$BIN" -c fixtures/specs/custom-rules.yaml --out-dir "$H/deploy"
} > "$H/results.txt"
python3 - "$H/results.txt" <<'PY'
import sys
failed = False
for line in open(sys.argv[1]):
    name, seconds, kib = line.split()
    seconds, mib = float(seconds), int(kib) / 1024
    ok = seconds < 2 and mib < 100
    failed |= not ok
    print(f"{name:<24} {seconds:6.2f} s {mib:7.1f} MiB  target < 2 s, < 100 MiB  {'ok' if ok else 'MISSED'}")
sys.exit(1 if failed else 0)
PY
