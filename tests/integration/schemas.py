"""Validation of REST answers against schemas/*.schema.json (python3-jsonschema, Debian's
/usr/bin/python3). Every schema file is loaded into one store keyed by its $id, so that relative
references (call.schema.json#/$defs/time) and the config's urn resolve offline."""

import glob
import json
import os

import jsonschema

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMAS = os.path.join(os.path.dirname(os.path.dirname(HERE)), "schemas")

_store = {}
for _path in glob.glob(os.path.join(SCHEMAS, "*.schema.json")):
    with open(_path, encoding="utf-8") as _f:
        _schema = json.load(_f)
    jsonschema.Draft202012Validator.check_schema(_schema)
    _store[_schema["$id"]] = _schema
    _store[os.path.basename(_path)] = _schema


def schema(name):
    return _store[name if name.endswith(".json") else name + ".schema.json"]


def errors(instance, name):
    """The validation errors of `instance` against schemas/<name>.schema.json, as text lines."""
    s = schema(name)
    resolver = jsonschema.RefResolver(base_uri=s["$id"], referrer=s, store=_store)
    v = jsonschema.Draft202012Validator(s, resolver=resolver,
                                        format_checker=jsonschema.FormatChecker())
    return ["%s: %s" % ("/".join(str(p) for p in e.absolute_path), e.message)
            for e in v.iter_errors(instance)]


def openapi_refs():
    """Every $ref in schemas/openapi.json."""
    with open(os.path.join(SCHEMAS, "openapi.json"), encoding="utf-8") as f:
        doc = json.load(f)
    out = []

    def walk(x):
        if isinstance(x, dict):
            for k, v in x.items():
                if k == "$ref":
                    out.append(v)
                else:
                    walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
    walk(doc)
    return doc, out
