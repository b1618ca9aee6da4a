"""Independent checks of gen-manifests' output by other programs' readers.

- Every built-in object passes `kubernetes-validate --strict` (the API
  server's OpenAPI schemas, unknown fields rejected). Items of a
  RoleList/RoleBindingList are validated one by one.
- ServiceMonitors and PodMonitors are validated against their CRDs'
  schemas, cert-manager objects against theirs, with the `jsonschema`
  validator.
- KEDA objects (keda.sh) are validated against the openAPIV3Schema of
  KEDA's own CRDs (fixtures/keda/), strictly: a field the schema does not
  declare is a failure, as `kubectl apply --validate=strict` makes it
  (the API server would otherwise prune it without a word).
- The files are read with PyYAML, a YAML 1.1 reader like kubectl's: with
  --string-labels, every label value must come back as a string (an
  unquoted `yes` or `on` would come back as a bool).
- What the schemas cannot see, in the grammars of the programs that read
  it: prometheus-adapter's command line as Go's flag package and the
  adapter's own flag types read it (`--metrics-relist-interval` a Go
  `time.ParseDuration` duration, `--prometheus-url` a URL with scheme
  http or https and a host, ports and verbosity integers in range); the
  adapter's config.yaml `window` and every PromQL range `[...]` as
  Prometheus' `model.ParseDuration`; KEDA's prometheus trigger
  `serverAddress` as a URL. A port of Go's and Prometheus' parsers, below,
  with the source each follows.

With --canary, every object must fail, and its first failure must contain
the text of its annotation `validator-canary/expect`: each canary object
fails for its own reason, so a check that stops working is noticed.

Usage: validate_manifests.py [--k8s-version V] [--string-labels] [--canary] FILE...
Exit 0 when everything passes (with --canary: when every object fails as
expected), 1 with a line per failure.
"""

import argparse
import json
import os
import re
import sys
import urllib.parse

import jsonschema
import kubernetes_validate
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMAS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitor.schema.json",
    ("monitoring.coreos.com/v1", "PodMonitor"): "podmonitor.schema.json",
    ("cert-manager.io/v1", "Issuer"): "cert-manager.schema.json",
    ("cert-manager.io/v1", "Certificate"): "cert-manager.schema.json",
}


CRDS = {
    "ScaledObject": "keda.sh_scaledobjects.yaml",
    "TriggerAuthentication": "keda.sh_triggerauthentications.yaml",
}


def strict(schema):
    """The schema with unknown fields refused wherever it lists properties
    and does not preserve unknown fields."""
    if isinstance(schema, dict):
        schema = {key: strict(value) for key, value in schema.items()}
        if (
            "properties" in schema
            and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")
        ):
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    return schema


def crd_schema(kind, api_version):
    with open(os.path.join(ROOT, "fixtures", "keda", CRDS[kind]), encoding="utf-8") as handle:
        crd = yaml.safe_load(handle)
    version = api_version.split("/", 1)[1]
    for candidate in crd["spec"]["versions"]:
        if candidate["name"] == version:
            schema = strict(candidate["schema"]["openAPIV3Schema"])
            # `metadata` is the API server's ObjectMeta, not described by the CRD.
            schema["properties"]["metadata"] = {"type": "object"}
            return schema
    raise ValueError(f"{CRDS[kind]} has no version {version}")


# Go's time.ParseDuration (src/time/format.go, go1.24): units and their
# length in nanoseconds; no `d` or `w`.
GO_UNITS = {"ns": 1, "us": 10**3, "\u00b5s": 10**3, "\u03bcs": 10**3, "ms": 10**6,
            "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}


def go_duration(text):
    """Nanoseconds of `text` as time.ParseDuration reads it; ValueError
    with Go's message otherwise."""
    orig, s, total, neg = text, text, 0, False
    if s and s[0] in "+-":
        neg, s = s[0] == "-", s[1:]
    if s == "0":
        return 0
    if not s:
        raise ValueError(f'time: invalid duration "{orig}"')
    while s:
        if not (s[0] == "." or s[0].isdigit() and s[0].isascii()):
            raise ValueError(f'time: invalid duration "{orig}"')
        m = re.match(r"[0-9]*", s)
        whole, s = m.group(0), s[m.end():]
        frac = ""
        if s.startswith("."):
            m = re.match(r"[0-9]*", s[1:])
            frac, s = m.group(0), s[1 + m.end():]
        if not whole and not frac:
            raise ValueError(f'time: invalid duration "{orig}"')
        i = 0
        while i < len(s) and not (s[i] == "." or s[i].isdigit() and s[i].isascii()):
            i += 1
        if i == 0:
            raise ValueError(f'time: missing unit in duration "{orig}"')
        unit, s = s[:i], s[i:]
        if unit not in GO_UNITS:
            raise ValueError(f'time: unknown unit "{unit}" in duration "{orig}"')
        value = int(whole or "0")
        if value > (1 << 63) // GO_UNITS[unit]:
            raise ValueError(f'time: invalid duration "{orig}"')
        value *= GO_UNITS[unit]
        if frac:
            value += int(int(frac) * GO_UNITS[unit] / 10 ** len(frac))
        total += value
        if total > 1 << 63:
            raise ValueError(f'time: invalid duration "{orig}"')
    if not neg and total > (1 << 63) - 1:
        raise ValueError(f'time: invalid duration "{orig}"')
    return -total if neg else total


# prometheus/common model.ParseDuration (model/time.go): ordered units,
# each at most once, integers only; what Prometheus reads in range
# selectors and the adapter in config.yaml's `window`.
PROM_DURATION = re.compile(r"^(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?$")
PROM_MS = {2: 365 * 86400000, 4: 7 * 86400000, 6: 86400000, 8: 3600000, 10: 60000, 12: 1000, 14: 1}


def prom_duration(text):
    if text == "0":
        return 0
    m = PROM_DURATION.match(text)
    if not text or not m:
        raise ValueError(f'not a valid duration string: "{text}"')
    total = sum(int(m.group(g)) * ms for g, ms in PROM_MS.items() if m.group(g))
    if total > (1 << 63) - 1:
        raise ValueError(f'duration out of range: "{text}"')
    return total


def http_url(text):
    """A URL Go's url.Parse reads as an absolute http(s) URL with a host."""
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        raise ValueError(f"URL {text!r} contains whitespace or a control character")
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"URL {text!r} has no http or https scheme")
    if not parts.hostname:
        raise ValueError(f"URL {text!r} has no host")
    port = parts.port  # raises ValueError when out of range or not a number
    if port == 0:
        raise ValueError(f"URL {text!r} has port 0")


def promql_ranges(query, where):
    """Every range `[d]` and subquery `[d:r]` of a PromQL text, outside its
    string literals (a regex matcher's `[a-z]` is no range)."""
    i, quote = 0, None
    while i < len(query):
        c = query[i]
        if quote:
            if c == "\\" and quote != "`":
                i += 1
            elif c == quote:
                quote = None
        elif c in "\"'`":
            quote = c
        elif c == "[":
            end = query.find("]", i)
            if end < 0:
                raise ValueError(f"{where}: PromQL range without `]`")
            inside = query[i + 1:end]
            for part in inside.split(":"):
                if part.strip():
                    try:
                        prom_duration(part.strip())
                    except ValueError as error:
                        raise ValueError(f"{where}: PromQL range [{inside}]: {error}") from None
            i = end
        i += 1


# prometheus-adapter's own flags (cmd/adapter/adapter.go) and the
# apiserver's it embeds (k8s.io/apiserver SecureServingOptions), with how
# each value is parsed.
def positive_go_duration(value):
    if go_duration(value) <= 0:
        raise ValueError(f"{value!r} is not a positive duration")


def port_number(value):
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise ValueError(f"{value!r} is not a port number")


def absolute_path(value):
    if not value.startswith("/") or any(c.isspace() for c in value):
        raise ValueError(f"{value!r} is not an absolute path without whitespace")


def klog_level(value):
    if not value.isdigit() or int(value) > 2**31 - 1:
        raise ValueError(f"{value!r} is not a klog level (a non-negative int32)")


def go_bool(value):
    if value not in ("1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False"):
        raise ValueError(f"{value!r} is not a Go bool (strconv.ParseBool)")


ADAPTER_FLAGS = {
    "metrics-relist-interval": positive_go_duration,
    "metrics-max-age": positive_go_duration,
    "prometheus-url": http_url,
    "secure-port": port_number,
    "cert-dir": absolute_path,
    "tls-cert-file": absolute_path,
    "tls-private-key-file": absolute_path,
    "config": absolute_path,
    "v": klog_level,
    "logtostderr": go_bool,
}


def adapter_checks(obj):
    """Failures of the grammar checks the schemas cannot make."""
    kind = obj.get("kind")
    if kind == "Deployment":
        containers = obj.get("spec", {}).get("template", {}).get("spec", {}).get("containers") or []
        for container in containers:
            args = container.get("args") or []
            if not any(str(a).startswith("--prometheus-url=") for a in args):
                continue
            for index, arg in enumerate(args):
                where = f"container {container.get('name')} args[{index}]"
                arg = str(arg)
                if not arg.startswith("-"):
                    if index == 0 and arg == "/adapter":
                        continue  # the guide repeats the entrypoint
                    yield f"{where}: {arg!r} is not a flag"
                    continue
                match = re.fullmatch(r"--?([a-z0-9][a-z0-9-]*)=(.*)", arg, re.S)
                if not match:
                    yield f"{where}: {arg!r} is not --flag=value"
                    continue
                check = ADAPTER_FLAGS.get(match.group(1))
                if check:
                    try:
                        check(match.group(2))
                    except ValueError as error:
                        yield f"{where}: --{match.group(1)}: {error}"
    elif kind == "ConfigMap":
        text = (obj.get("data") or {}).get("config.yaml")
        if not text:
            return
        config = yaml.safe_load(text) or {}
        queries = []
        for index, rule in enumerate(config.get("rules") or []):
            queries.append((f"config.yaml rules[{index}].metricsQuery", rule.get("metricsQuery") or ""))
        resource = config.get("resourceRules") or {}
        for name in ("cpu", "memory"):
            for key in ("containerQuery", "nodeQuery"):
                if isinstance(resource.get(name), dict):
                    queries.append((f"config.yaml resourceRules.{name}.{key}", resource[name].get(key) or ""))
        if "window" in resource:
            try:
                prom_duration(str(resource["window"]))
            except ValueError as error:
                yield f"config.yaml resourceRules.window: {error}"
        for where, query in queries:
            try:
                promql_ranges(query, where)
            except ValueError as error:
                yield str(error)
    elif kind == "ScaledObject":
        for index, trigger in enumerate(obj.get("spec", {}).get("triggers") or []):
            if trigger.get("type") != "prometheus":
                continue
            metadata = trigger.get("metadata") or {}
            try:
                http_url(metadata.get("serverAddress", ""))
                promql_ranges(metadata.get("query", ""), "query")
            except ValueError as error:
                yield f"triggers[{index}]: {error}"


def objects(path):
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    documents = json.loads(text)["items"] if path.endswith(".json") else list(yaml.safe_load_all(text))
    for document in documents:
        if document is None:
            continue
        if document["kind"].endswith("List") and "items" in document:
            yield from document["items"]
        else:
            yield document


def label_values(obj):
    metadata = obj.get("metadata", {})
    yield from (metadata.get("labels") or {}).items()
    template = obj.get("spec", {}).get("template", {}).get("metadata", {})
    yield from (template.get("labels") or {}).items()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--k8s-version", default="1.33.0")
    parser.add_argument("--string-labels", action="store_true")
    parser.add_argument("--canary", action="store_true")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()

    failures, checked, unexpected = [], 0, []
    for path in args.files:
        for obj in objects(path):
            name = f"{path}: {obj['kind']} {obj.get('metadata', {}).get('name')}"
            schema_file = SCHEMAS.get((obj["apiVersion"], obj["kind"]))
            own = []
            try:
                if obj["apiVersion"].split("/")[0] in ("monitoring.coreos.com", "cert-manager.io") and not schema_file:
                    raise ValueError(f"no schema for {obj['apiVersion']} {obj['kind']}")
                if obj["apiVersion"].startswith("keda.sh/"):
                    if obj["kind"] not in CRDS:
                        raise ValueError(f"no KEDA CRD for kind {obj['kind']}")
                    jsonschema.validate(obj, crd_schema(obj["kind"], obj["apiVersion"]))
                elif schema_file:
                    with open(os.path.join(ROOT, "fixtures", "schemas", schema_file)) as handle:
                        jsonschema.validate(obj, json.load(handle))
                else:
                    kubernetes_validate.validate(obj, args.k8s_version, strict=True)
                checked += 1
            except Exception as error:  # each validator raises its own type
                own.append(f"{name}: {error}".splitlines()[0])
            own += [f"{name}: {problem}" for problem in adapter_checks(obj)]
            if args.string_labels:
                for key, value in label_values(obj):
                    if not isinstance(value, str):
                        own.append(f"{name}: label {key} read as {type(value).__name__} {value!r}")
            failures += own
            if args.canary:
                expect = (obj.get("metadata", {}).get("annotations") or {}).get("validator-canary/expect")
                if not expect:
                    unexpected.append(f"{name}: no validator-canary/expect annotation")
                elif not own:
                    unexpected.append(f"{name}: passed, expected to fail with {expect!r}")
                elif expect not in own[0]:
                    unexpected.append(f"{name}: failed with {own[0]!r}, expected {expect!r}")
    for failure in failures:
        print(f"FAIL {failure}")
    print(f"{checked} objects validated, {len(failures)} failures")
    if args.canary:
        for problem in unexpected:
            print(f"CANARY {problem}")
        print(f"canary: {len(unexpected)} objects did not fail for their own reason")
        return 1 if unexpected else 0
    return 1 if failures or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
