"""End-to-end: the generated configuration against a real Prometheus and a
real instrumented FastAPI app, all on 127.0.0.1 at free ports.

1. Starts two instances ("pods") of examples/fastapi/app.py under uvicorn
   (prometheus-fastapi-instrumentator exposes http_requests_total), and a
   Prometheus whose scrape config attaches `namespace` and `pod` labels to
   each target, as the Prometheus Operator's ServiceMonitor relabelling does.
2. Drives a known load: 10 req/s to pod A and 5 req/s to pod B (2:1).
3. `gen-manifests explain --prometheus` on the recommended rule must report
   those rates per pod, within 20 %.
4. The documented (guide's) rule must return no data, while `lint` reports
   rate-window for it: evidence that the lint rule is right.
5. promtool (an independent PromQL parser) must accept every generated
   query with placeholders filled, and reject the guide's broken nodeQuery.
6. explain against a closed port fails with exit 2 and a clear message.
7. The KEDA backend's query (`--backend keda`), sent as KEDA's prometheus
   scaler sends it (GET /api/v1/query), returns exactly one sample: the
   app's total rate, within 20 %.

Time is scaled by 1/15 so the test runs in well under two minutes:
Prometheus scrapes every 2s where kube-prometheus scrapes every 30s, and
rate windows shrink in proportion (see fixtures/e2e/*.yaml).

Everything started is stopped by process id in a `finally`, and on SIGTERM.
Usage: e2e.py GEN_MANIFESTS_BINARY PYTHON_WITH_APP_DEPS
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRAPE_SECONDS = 2
LOAD = {"fastapi-5d8f7b9c4-x2k4q": 10.0, "fastapi-5d8f7b9c4-b7n9z": 5.0}  # requests per second per pod
LOAD_SECONDS = 34
TOLERANCE = 0.20
DEADLINE = time.monotonic() + 110  # the whole test, hard bound

started = []


def stop_all(*_):
    for process in reversed(started):
        if process.poll() is None:
            process.terminate()
    for process in reversed(started):
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()


def fail(message):
    print(f"e2e FAILED: {message}", file=sys.stderr)
    raise SystemExit(1)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url, what, seconds=30):
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    fail(f"{what} did not come up at {url} within {seconds}s")


def start(args, log):
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    started.append(process)
    return process


def drive_load(port, rate, seconds):
    """Sends `rate` GET / per second to 127.0.0.1:port for `seconds`, paced."""
    count = int(rate * seconds)
    begin = time.monotonic()
    for index in range(count):
        target = begin + index / rate
        delay = target - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        if time.monotonic() > DEADLINE:
            return
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read()
        except OSError as error:
            print(f"request to {port} failed: {error}", file=sys.stderr)


def query_like_keda(url, query):
    """GET /api/v1/query?query=...&time=... as pkg/scalers/prometheus_scaler.go does."""
    moment = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    address = f"{url}/api/v1/query?query={urllib.parse.quote_plus(query)}&time={moment}"
    with urllib.request.urlopen(address, timeout=5) as response:
        body = json.load(response)
    if body.get("status") != "success":
        fail(f"Prometheus refused the KEDA query: {body}")
    return body["data"]["result"]


def gen(binary, *args, expect=0):
    result = subprocess.run([binary, *args], cwd=ROOT, capture_output=True, text=True, timeout=60)
    if result.returncode != expect:
        fail(f"gen-manifests {' '.join(args)} exited {result.returncode}, expected {expect}:\n{result.stdout}{result.stderr}")
    return result


def promtool_check(queries, expect_ok, workdir, name):
    path = os.path.join(workdir, f"{name}.rules.yml")
    rules = [{"record": f"gen_manifests:q{i}", "expr": q} for i, q in enumerate(queries)]
    with open(path, "w") as handle:
        json.dump({"groups": [{"name": name, "rules": rules}]}, handle)  # JSON is YAML
    result = subprocess.run(["promtool", "check", "rules", path], capture_output=True, text=True, timeout=30)
    if (result.returncode == 0) != expect_ok:
        fail(f"promtool check rules {name}: exit {result.returncode}, expected {'success' if expect_ok else 'failure'}\n"
             f"{result.stdout}{result.stderr}")
    return len(queries)


def main():
    binary, app_python = sys.argv[1], sys.argv[2]
    for tool in ("prometheus", "promtool"):
        if not shutil.which(tool):
            fail(f"{tool} is missing: run `apt-get install -y --no-install-recommends prometheus` (as root)")
    signal.signal(signal.SIGTERM, lambda *_: (stop_all(), sys.exit(143)))
    workdir = tempfile.mkdtemp(prefix="gen-manifests-e2e-")
    log = open(os.path.join(workdir, "processes.log"), "w")
    try:
        ports = {pod: free_port() for pod in LOAD}
        for pod, port in ports.items():
            start([app_python, "-m", "uvicorn", "app:app", "--app-dir", "examples/fastapi",
                   "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"], log)
        prometheus_port = free_port()
        config = {
            "global": {"scrape_interval": f"{SCRAPE_SECONDS}s", "evaluation_interval": f"{SCRAPE_SECONDS}s"},
            "scrape_configs": [{
                # Named as the Prometheus Operator names a ServiceMonitor's job; the
                # target labels are what its relabelling attaches.
                "job_name": "serviceMonitor/my-app/fastapi/0",
                "static_configs": [
                    {"targets": [f"127.0.0.1:{port}"],
                     "labels": {"namespace": "my-app", "pod": pod, "service": "fastapi", "container": "fastapi"}}
                    for pod, port in ports.items()
                ],
            }],
        }
        with open(os.path.join(workdir, "prometheus.yml"), "w") as handle:
            json.dump(config, handle)
        start(["prometheus", f"--config.file={workdir}/prometheus.yml", f"--storage.tsdb.path={workdir}/data",
               f"--web.listen-address=127.0.0.1:{prometheus_port}", "--storage.tsdb.retention.time=1h"], log)
        url = f"http://127.0.0.1:{prometheus_port}"
        for pod, port in ports.items():
            wait_http(f"http://127.0.0.1:{port}/metrics", f"FastAPI pod {pod}")
        wait_http(f"{url}/-/ready", "Prometheus")

        threads = [threading.Thread(target=drive_load, args=(ports[pod], rate, LOAD_SECONDS), daemon=True)
                   for pod, rate in LOAD.items()]
        for thread in threads:
            thread.start()
        # Ask while the load still runs, once the 8s window lies wholly inside it.
        time.sleep(LOAD_SECONDS - 8)

        # 3. The recommended rule: the adapter's query, answered per pod.
        explained = json.loads(gen(binary, "explain", "-c", "fixtures/e2e/recommended-scaled.yaml",
                                   "--prometheus", url, "--format", "json").stdout)
        app = explained["apps"][0]
        if app["metric"] != "http_requests_per_second":
            fail(f"metric name derived as {app['metric']}")
        live = app["live"]
        if live["problems"]:
            fail(f"explain reports problems: {live['problems']}")
        # The scrape pool is named as Prometheus Operator names a ServiceMonitor's.
        if not (live.get("target") or "").startswith("up: "):
            fail(f"explain reports the scrape target as {live.get('target')!r}, expected up")
        values = {item["pod"]: item["value"] for item in live["values"]}
        if set(values) != set(LOAD):
            fail(f"explain reports pods {sorted(values)}, expected {sorted(LOAD)}")
        for pod, rate in LOAD.items():
            if abs(values[pod] - rate) > TOLERANCE * rate:
                fail(f"{pod}: explain reports {values[pod]:.2f} req/s, the load was {rate} (tolerance {TOLERANCE:.0%})")
        print(f"recommended rule: {', '.join(f'{p}={v:.2f} req/s' for p, v in sorted(values.items()))} "
              f"(load {LOAD}); query: {app['query']}")

        # 7. The KEDA query: one sample, the app's total, as KEDA asks for it.
        keda = json.loads(gen(binary, "-c", "fixtures/e2e/recommended-scaled.yaml", "--backend", "keda",
                              "--format", "json").stdout)
        scaled = [item for item in keda["items"] if item["kind"] == "ScaledObject"][0]
        metadata = scaled["spec"]["triggers"][0]["metadata"]
        answer = query_like_keda(url, metadata["query"])
        if len(answer) != 1:
            fail(f"the KEDA query returned {len(answer)} samples, KEDA needs exactly one: {answer}")
        total = sum(LOAD.values())
        keda_value = float(answer[0]["value"][1])
        if abs(keda_value - total) > TOLERANCE * total:
            fail(f"the KEDA query answers {keda_value:.2f} req/s; the load was {total}")
        implied = -(-keda_value // float(metadata["threshold"]))
        print(f"KEDA query: one sample, {keda_value:.2f} req/s (load {total}), threshold {metadata['threshold']} "
              f"-> {implied:.0f} replicas")

        # 4. The guide's rule: no data (explain exits 1, a diagnosis that
        # finds the metric missing gates a pipeline), and lint says why.
        guide = json.loads(gen(binary, "explain", "-c", "fixtures/e2e/documented-scaled.yaml",
                               "--prometheus", url, "--format", "json", expect=1).stdout)
        problems = guide["apps"][0]["live"]["problems"]
        if not any("returned nothing" in problem for problem in problems):
            fail(f"the guide's window should return no data; explain says {guide['apps'][0]['live']}")
        # simulate --prometheus: the app's total rate from query_range, through the HPA model.
        simulated = json.loads(gen(binary, "simulate", "-c", "fixtures/e2e/recommended-scaled.yaml", "--app", "fastapi",
                                   "--prometheus", url, "--range", "20s", "--step", "2s", "--format", "json").stdout)
        total = sum(LOAD.values())
        peak = simulated["summary"]["peakLoad"]
        if abs(peak - total) > TOLERANCE * total:
            fail(f"simulate --prometheus read a peak load of {peak:.2f} req/s; the load was {total}")
        # 15 req/s against a target of 10 per pod needs 2 pods (the 20s trace holds two HPA syncs).
        if simulated["summary"]["peakReplicas"] < 2:
            fail(f"simulate kept {simulated['summary']['peakReplicas']} replica(s) at {peak:.1f} req/s, target 10: {simulated['series']}")
        print(f"simulate --prometheus: peak load {peak:.2f} req/s (load {total}), peak replicas {simulated['summary']['peakReplicas']}")

        for thread in threads:
            thread.join(timeout=LOAD_SECONDS + 30)
        lint = gen(binary, "lint", "-c", "fixtures/e2e/documented-scaled.yaml", expect=1).stdout
        if "rate-window" not in lint:
            fail(f"lint does not report rate-window for the guide's window:\n{lint}")
        clean = gen(binary, "lint", "-c", "fixtures/e2e/recommended-scaled.yaml", "--strict").stdout
        print(f"documented rule: no data ({problems[0][:70]}...); lint: rate-window reported; scaled recommended lints clean{clean}")

        # 5. promtool parses every generated query, and refuses the guide's nodeQuery.
        queries = [app["query"], guide["apps"][0]["query"]]
        for args in ([], ["--preset", "documented"], ["--preset", "recommended"],
                     ["-c", "fixtures/specs/custom-rules.yaml"]):
            explanation = json.loads(gen(binary, "explain", *args, "--format", "json").stdout)
            queries += [q["filled"] for q in explanation["example_queries"] if q["filled"]]
            queries += [a["query"] for a in explanation["apps"]]
        checked = promtool_check(queries, True, workdir, "generated")
        broken = ('sum(rate(container_cpu_usage_seconds_total{namespace="my-app",pod=~"p1|p2", id=\'/\'}[3m])) '
                  'by (pod) by (pod)')
        promtool_check([broken], False, workdir, "guide-node-query")
        print(f"promtool: {checked} generated queries parse; the guide's nodeQuery is refused")

        # 6. A Prometheus that is not there: a clear error, exit 2.
        closed = free_port()
        result = gen(binary, "explain", "-c", "fixtures/e2e/recommended-scaled.yaml", "--prometheus",
                     f"http://127.0.0.1:{closed}", "--timeout", "2", expect=2)
        if "cannot reach Prometheus" not in result.stderr:
            fail(f"unreachable Prometheus message: {result.stderr}")
        print("unreachable Prometheus: exit 2,", result.stderr.strip())
        print("e2e passed")
    finally:
        stop_all()
        log.close()
        if os.environ.get("E2E_KEEP") != "1":
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
