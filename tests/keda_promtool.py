"""Evaluates every KEDA query gen-manifests emits with `promtool test rules`.

For each ScaledObject of each spec (rendered with --backend keda), three
synthetic scenes, each with the app's Deployment next to Deployments whose
names share a prefix with it (`<name>-canary`, and the name without its
last segment), and the same pod names in another namespace:

- traffic: one sample, equal to the app's total (the sum of its pods'
  rates for a rate query, of its pods' values for a gauge);
- idle: the pods are scraped (`up` is 1) but the series does not exist
  yet: one sample, 0;
- lost: Prometheus scrapes none of the app's pods: no sample (KEDA, with
  ignoreNullValues "false", then falls back instead of scaling down).

A canary proves the check can fail: the adapter's loose pod pattern
`<deployment>-.+` on an app with a `-canary` neighbour must give a wrong
total, and promtool must say so.

Usage: keda_promtool.py GEN_MANIFESTS WORKDIR SPEC...
Exit 0 when every test passes and the canary fails, 1 otherwise.
"""

import json
import os
import re
import subprocess
import sys

import yaml

INTERVAL = 10  # seconds between synthetic samples
SAMPLES = 60
EVAL_TIME = "8m"
HASHES = ["6b7c4d9f2", "5d8f7b9c4"]
SUFFIXES = ["q8x2z", "b5n7w"]
# Extra apps whose names share prefixes, and one long name that Kubernetes
# truncates in pod names.
EXTRA_SPEC = """
preset: recommended
backend: keda
apps:
- name: shop
  namespace: prefixes
  targetAverageValue: "1"
  maxReplicas: 3
- name: shop-api
  namespace: prefixes
  targetAverageValue: "1"
  maxReplicas: 3
- name: %s
  namespace: prefixes
  targetAverageValue: "1"
  maxReplicas: 3
""" % ("l" + "o" * 50 + "-ng")

UP_MATCHER = re.compile(r'up\{(\w+)="([^"]+)",(\w+)=~"([^"]+)"\} == 1\)\)$')


def pod_name(deployment, index):
    """As Kubernetes names it: ReplicaSet `<deployment>-<hash>`, pods
    generateName `<rs>-` cut to 58 characters, plus 5 characters."""
    prefix = f"{deployment}-{HASHES[index % 2]}-"[:58]
    return prefix + SUFFIXES[index % 2]


def scaled_objects(binary, spec):
    output = subprocess.run(
        [binary, "-c", spec, "--backend", "keda", "--format", "json"],
        check=True, capture_output=True, text=True,
    ).stdout
    for item in json.loads(output)["items"]:
        if item["kind"] == "ScaledObject":
            yield item


def scenes(scaled):
    query = scaled["spec"]["triggers"][0]["metadata"]["query"]
    deployment = scaled["spec"]["scaleTargetRef"]["name"]
    found = UP_MATCHER.search(query)
    if not found:
        raise ValueError(f"{scaled['metadata']['name']}: no up{{...}} guard in {query}")
    namespace_label, namespace, pod_label, _ = found.groups()
    series = re.search(r"([A-Za-z_:][A-Za-z0-9_:]*)\{" + namespace_label + '="', query).group(1)
    counter = re.search(r"\b(rate|irate|increase)\(", query) is not None
    # Past 46 characters Kubernetes cuts the hash out of pod names, and no
    # pattern can tell this Deployment's pods from those of one whose name
    # extends it (README: the KEDA backend); a shorter neighbour still differs.
    neighbours = [f"{deployment}-canary"] if len(deployment) <= 46 else []
    if "-" in deployment:
        neighbours.append(deployment.rsplit("-", 1)[0])

    def labels(ns, pod):
        return f'{series}{{{namespace_label}="{ns}",{pod_label}="{pod}",handler="/"}}'

    def up(ns, pod):
        return f'up{{{namespace_label}="{ns}",{pod_label}="{pod}",job="app"}}'

    def values(per_second):
        if counter:
            return f"0+{per_second * INTERVAL:g}x{SAMPLES}"
        return f"{per_second:g}x{SAMPLES}"

    own = [(pod_name(deployment, i), rate) for i, rate in enumerate([1.5, 2.5])]
    others = [(pod_name(name, i), 7.0 + i) for name in neighbours for i in range(2)]
    elsewhere = [(pod, 100.0) for pod, _ in own]
    expected = sum(rate for _, rate in own)

    traffic = [{"series": labels(namespace, pod), "values": values(rate)} for pod, rate in own + others]
    traffic += [{"series": labels("elsewhere", pod), "values": values(rate)} for pod, rate in elsewhere]
    traffic += [{"series": up(namespace, pod), "values": f"1x{SAMPLES}"} for pod, _ in own + others]
    idle = [{"series": up(namespace, pod), "values": f"1x{SAMPLES}"} for pod, _ in own]
    idle += [{"series": labels(namespace, pod), "values": values(rate)} for pod, rate in others]
    lost = [{"series": labels(namespace, pod), "values": values(rate)} for pod, rate in others]
    lost += [{"series": up(namespace, pod), "values": f"1x{SAMPLES}"} for pod, _ in others]
    lost += [{"series": up(namespace, pod), "values": f"0x{SAMPLES}"} for pod, _ in own]
    return query, [
        (traffic, [{"labels": "{}", "value": expected}]),
        (idle, [{"labels": "{}", "value": 0}]),
        (lost, []),
    ], deployment


def test_group(query, series, samples):
    return {
        "interval": f"{INTERVAL}s",
        "input_series": series,
        "promql_expr_test": [{"expr": query, "eval_time": EVAL_TIME, "exp_samples": samples}],
    }


def run_promtool(workdir, name, tests):
    rules = os.path.join(workdir, "empty-rules.yaml")
    with open(rules, "w", encoding="utf-8") as handle:
        yaml.safe_dump({"groups": []}, handle)
    path = os.path.join(workdir, f"{name}.test.yaml")
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump({"rule_files": [rules], "evaluation_interval": "1m", "tests": tests}, handle, width=10**6)
    result = subprocess.run(["promtool", "test", "rules", path], capture_output=True, text=True)
    return result.returncode, result.stdout + result.stderr


def main():
    binary, workdir, specs = sys.argv[1], sys.argv[2], sys.argv[3:]
    os.makedirs(workdir, exist_ok=True)
    extra = os.path.join(workdir, "prefixes.yaml")
    with open(extra, "w", encoding="utf-8") as handle:
        handle.write(EXTRA_SPEC)
    tests, checked, canary = [], 0, None
    for spec in specs + [extra]:
        for scaled in scaled_objects(binary, spec):
            query, cases, deployment = scenes(scaled)
            for series, samples in cases:
                tests.append(test_group(query, series, samples))
            checked += 1
            if canary is None:
                # The loose pattern counts the `-canary` neighbour too.
                loose = re.sub(r'=~"[^"]+"', f'=~"{deployment}-.+"', query)
                canary = test_group(loose, cases[0][0], cases[0][1])
    code, report = run_promtool(workdir, "keda-queries", tests)
    print(report.strip())
    print(f"{checked} KEDA queries, {len(tests)} promtool tests")
    if code != 0:
        return 1
    code, report = run_promtool(workdir, "canary", [canary])
    if code == 0:
        print("FAIL the canary (a loose pod pattern) passed: the check cannot fail")
        return 1
    print("canary: the loose pod pattern `<deployment>-.+` is caught")
    return 0


if __name__ == "__main__":
    sys.exit(main())
