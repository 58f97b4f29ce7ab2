#!/usr/bin/env python3
"""Checks b2buad config files against schemas/config.schema.json.

Usage: config_schema_check.py [--schema PATH] FILE...

Config files may hold // and /* */ comments as b2buad accepts them; they are stripped first.
Prints one line per file ("ok: FILE" or "FAIL: FILE: <path>: <reason>") and exits 0 when every
file is valid, 1 otherwise (also on usage errors or an invalid schema).
Needs python3-jsonschema (Debian: apt-get install -y python3-jsonschema).
"""

import json
import os
import sys

try:
    import jsonschema
except ImportError:
    print("FAIL: python3-jsonschema is not installed (apt-get install -y python3-jsonschema)")
    sys.exit(1)

DEFAULT_SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), *([".."] * 4),
                              "schemas", "config.schema.json")


def strip_comments(text):
    """Removes // and /* */ comments outside JSON strings; keeps line breaks for line numbers."""
    out = []
    i, n = 0, len(text)
    in_string = False
    while i < n:
        c = text[i]
        if in_string:
            out.append(c)
            if c == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
            out.append(c)
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise ValueError("unterminated /* comment")
            out.append("\n" * text.count("\n", i, end))
            i = end + 2
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


def json_path(error):
    path = ""
    for part in error.absolute_path:
        if isinstance(part, int):
            path += "[%d]" % part
        else:
            path += ("." if path else "") + str(part)
    return path or "(top level)"


def check_file(validator, path):
    try:
        with open(path, encoding="utf-8") as f:
            document = json.loads(strip_comments(f.read()))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        return "cannot read or parse: %s" % str(e).replace("\n", " ")
    errors = sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    if not errors:
        return None
    first = errors[0]
    more = " (and %d more)" % (len(errors) - 1) if len(errors) > 1 else ""
    return "%s: %s%s" % (json_path(first), first.message.replace("\n", " "), more)


def main(argv):
    args = argv[1:]
    schema_path = DEFAULT_SCHEMA
    if len(args) >= 2 and args[0] == "--schema":
        schema_path, args = args[1], args[2:]
    if not args or args[0].startswith("-"):
        print("usage: config_schema_check.py [--schema PATH] FILE...")
        return 1
    try:
        with open(schema_path, encoding="utf-8") as f:
            schema = json.load(f)
        jsonschema.Draft202012Validator.check_schema(schema)
    except (OSError, ValueError, jsonschema.exceptions.SchemaError) as e:
        print("FAIL: schema %s: %s" % (schema_path, str(e).splitlines()[0]))
        return 1
    validator = jsonschema.Draft202012Validator(schema)
    failed = 0
    for path in args:
        problem = check_file(validator, path)
        if problem is None:
            print("ok: %s" % path)
        else:
            print("FAIL: %s: %s" % (path, problem))
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
