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

Usage: validate_manifests.py [--k8s-version V] [--string-labels] FILE...
Exit 0 when everything passes, 1 with a line per failure.
"""

import argparse
import json
import os
import sys

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
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()

    failures, checked = [], 0
    for path in args.files:
        for obj in objects(path):
            name = f"{path}: {obj['kind']} {obj.get('metadata', {}).get('name')}"
            schema_file = SCHEMAS.get((obj["apiVersion"], obj["kind"]))
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
                failures.append(f"{name}: {error}".splitlines()[0])
            if args.string_labels:
                for key, value in label_values(obj):
                    if not isinstance(value, str):
                        failures.append(f"{name}: label {key} read as {type(value).__name__} {value!r}")
    for failure in failures:
        print(f"FAIL {failure}")
    print(f"{checked} objects validated, {len(failures)} failures")
    return 1 if failures or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
