"""validate_schema.py: the independent check of test_schema_gen.c: every line
of the file given is {"schema": ..., "output": "..."}; each output must parse
as JSON and validate against its schema (python3-jsonschema from Debian, with
format checking). Prints each failure; exit 1 if any, 77 without jsonschema."""
import json
import sys

try:
    import jsonschema
except ImportError:
    print("python3-jsonschema is not installed", file=sys.stderr)
    sys.exit(77)

import datetime

# The draft's own format checker; Debian has no rfc3339-validator, so "time"
# and "date-time" are checked with the standard library's ISO 8601 parsers.
checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
checker.checks("time", raises=ValueError)(lambda s: not isinstance(s, str) or
                                          bool(datetime.time.fromisoformat(s)) or True)
checker.checks("date-time", raises=ValueError)(lambda s: not isinstance(s, str) or
                                               bool(datetime.datetime.fromisoformat(s)))

bad = 0
n = 0
with open(sys.argv[1], encoding="utf-8") as f:
    for line in f:
        rec = json.loads(line)
        n += 1
        try:
            value = json.loads(rec["output"])
            cls = jsonschema.validators.validator_for(rec["schema"])
            cls(rec["schema"], format_checker=checker).validate(value)
        except Exception as e:  # noqa: BLE001 - report every kind of failure
            bad += 1
            print("FAIL %s\n  output: %r\n  why: %s" % (json.dumps(rec["schema"]), rec["output"],
                                                         str(e).splitlines()[0]), file=sys.stderr)
print("%d outputs validated, %d failed" % (n, bad), file=sys.stderr)
sys.exit(1 if bad or n == 0 else 0)
