"""moto's server, with two fixes so that it answers as AWS does, then run
unchanged. Arguments are moto_server's (-H HOST -p PORT).

1. moto wraps every record value of ListResourceRecordSets in CDATA. Route53
   itself never does, and the Rust SDK's XML reader skips CDATA, so every value
   would read as "" and every update would look like a change. The CDATA
   becomes ordinary escaped text.

2. moto evaluates S3 bucket policies, but a statement whose condition it
   cannot check counts as met, and one whose condition fails counts as a
   denial even when its effect is Deny. The config bucket's policy denies
   requests whose `aws:SecureTransport` is false, so moto would deny every
   object request. moto here stands in for S3's HTTPS endpoint (the SDK always
   uses TLS against AWS), so statements whose `Bool`/`StringEquals`
   conditions do not hold for a TLS request are set aside before moto
   evaluates the rest.

3. moto's Route53 compiles its Jinja response template on every request,
   about 16 ms of the 21 ms a ListResourceRecordSets takes here. Compiled
   templates are cached, so Route53 latency on loopback reflects the call, not
   the emulator's template engine (benchmarks compare call counts).

4. moto's Lambda UpdateFunctionCode ignores `Architectures`, the only call
   that changes a function's architecture on AWS. It is applied.

5. moto's API Gateway keeps a REST API's `endpointConfiguration` as sent, so
   an API created without `ipAddressType` reads back without one; AWS answers
   `ipv4`, its default for REGIONAL and EDGE APIs. And UpdateRestApi with
   `replace /endpointConfiguration/ipAddressType` overwrites moto's endpoint
   *types* with the value (`["dualstack"]`); AWS changes the IP address type
   and keeps the type. Both are answered as AWS does.

6. moto's CloudWatch Logs FilterLogEvents takes a JSON filter pattern
   (`{ $.fields.host = "home.example.com" }`) as matching every event, and
   any term pattern not starting with a letter or a quote likewise. JSON
   patterns are evaluated as AWS documents them (selectors, = != < > <= >=,
   `*` in strings, %regex%, IS TRUE/FALSE/NULL, NOT EXISTS, && || and
   parentheses); terms also take ?optional and -excluded terms and a
   standalone %regex%; a malformed pattern is InvalidParameterException.

7. moto's FilterLogEvents returns one stream's events after another unless
   asked to interleave; AWS always interleaves (the parameter has been ignored
   since 2019) and sorts by timestamp, ingestion time and put order. Events
   are so sorted, and nextToken marks the last event's place in that order, so
   pages neither repeat nor skip events.

"""

import inspect
import json
import re
import sys
from functools import lru_cache

import moto.apigateway.models as apigateway_models
import moto.awslambda.models as lambda_models
import moto.logs.exceptions as logs_exceptions
import moto.logs.models as logs_models
import moto.route53.responses as route53_responses
import moto.s3.models as s3_models
from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.server import main

CDATA_VALUE = "<![CDATA[{{ resource }}]]>"
if CDATA_VALUE not in route53_responses.LIST_RRSET_RESPONSE:
    sys.exit("scripts/moto_server.py: moto's Route53 template changed; review the CDATA fix")
route53_responses.LIST_RRSET_RESPONSE = route53_responses.LIST_RRSET_RESPONSE.replace(
    CDATA_VALUE, "{{ resource|e }}"
)



# What AWS would know about every request the SDK sends to S3.
REQUEST_CONTEXT = {"aws:securetransport": "true"}


def condition_holds(statement):
    for operator, pairs in (statement.get("Condition") or {}).items():
        if operator not in ("Bool", "StringEquals"):
            continue
        for key, expected in pairs.items():
            actual = REQUEST_CONTEXT.get(key.lower())
            wanted = expected if isinstance(expected, list) else [expected]
            if actual is not None and actual not in [str(w).lower() for w in wanted]:
                return False
    return True


def get_permission(bucket, action, resource):
    if bucket.policy is None:
        return PermissionResult.NEUTRAL
    policy = json.loads(bucket.policy.decode())
    statements = policy["Statement"] if isinstance(policy["Statement"], list) else [policy["Statement"]]
    kept = [{k: v for k, v in s.items() if k != "Condition"} for s in statements if condition_holds(s)]
    if not kept:
        return PermissionResult.NEUTRAL
    return IAMPolicy(json.dumps(dict(policy, Statement=kept))).is_action_permitted(action, resource)


s3_models.FakeBucket.get_permission = get_permission
route53_responses.Template = lru_cache(maxsize=None)(route53_responses.Template)

_update_function_code = lambda_models.LambdaFunction.update_function_code


def update_function_code(function, spec):
    if spec.get("Architectures"):
        function.architectures = spec["Architectures"]
    return _update_function_code(function, spec)


lambda_models.LambdaFunction.update_function_code = update_function_code

IP_ADDRESS_TYPE_PATH = "/endpointConfiguration/ipAddressType"
_rest_api_init = apigateway_models.RestAPI.__init__
_rest_api_patch = apigateway_models.RestAPI.apply_patch_operations


def rest_api_init(api, *args, **kwargs):
    _rest_api_init(api, *args, **kwargs)
    api.endpoint_configuration = dict(api.endpoint_configuration)
    api.endpoint_configuration.setdefault("ipAddressType", "ipv4")


def rest_api_patch(api, operations):
    rest = []
    for op in operations:
        if op.get("op") == "replace" and op.get("path") == IP_ADDRESS_TYPE_PATH:
            api.endpoint_configuration["ipAddressType"] = op.get("value")
        else:
            rest.append(op)
    return _rest_api_patch(api, rest)


apigateway_models.RestAPI.__init__ = rest_api_init
apigateway_models.RestAPI.apply_patch_operations = rest_api_patch


# CloudWatch Logs: filter patterns (6), FilterLogEvents order and pages (7). Each raises a moto error, so the client sees what AWS
# would answer.


def invalid_pattern(why):
    return logs_exceptions.InvalidParameterException(f"Invalid filter pattern: {why}")


def wildcard_regex(text):
    return re.compile("".join(".*" if c == "*" else re.escape(c) for c in text), re.S)


def aws_regex(body, error):
    # AWS's regex subset has no groups; Python's re does the rest.
    if "(" in body or ")" in body:
        raise error("the ( and ) operators are not supported in a regular expression")
    try:
        return re.compile(body)
    except re.error as err:
        raise error(f"bad regular expression %{body}%: {err}")


NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def joined(parse, separator, kind):
    """One or more parse() joined by separator(): (kind, [terms]), or the one term."""
    terms = [parse()]
    while separator():
        terms.append(parse())
    return (kind, terms) if len(terms) > 1 else terms[0]


class JsonPattern:
    """{ SELECTOR OP VALUE } joined with && and || (&& binds tighter), and
    parentheses; see docs/moto.md for what is supported."""

    def __init__(self, text):
        self.text, self.pos = text, 1  # after "{"
        self.tree = self.either()
        self.space()
        if self.text[self.pos :] != "}":
            raise invalid_pattern(f"unexpected {self.text[self.pos:]!r}")

    def space(self):
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def take(self, word):
        self.space()
        if self.text.startswith(word, self.pos):
            self.pos += len(word)
            return True
        return False

    def either(self):
        return joined(self.both, lambda: self.take("||"), "or")

    def both(self):
        return joined(self.atom, lambda: self.take("&&"), "and")

    def atom(self):
        if self.take("("):
            tree = self.either()
            if not self.take(")"):
                raise invalid_pattern("unbalanced parentheses")
            return tree
        path = self.selector()
        for op in ("!=", "<=", ">=", "=", "<", ">"):
            if self.take(op):
                return ("cmp", path, op, self.value(op))
        word = re.compile(r"\s*(IS\s+(TRUE|FALSE|NULL)|NOT\s+EXISTS)\b", re.I).match(self.text, self.pos)
        if word:
            self.pos = word.end()
            return ("is", path, " ".join(word.group(1).upper().split()))
        raise invalid_pattern(f"expected an operator at {self.text[self.pos:]!r}")

    def selector(self):
        self.space()
        if not self.take("$"):
            raise invalid_pattern(f"expected a selector ($.name) at {self.text[self.pos:]!r}")
        path = []
        step = re.compile(r"\.([A-Za-z0-9_-]+|\*)|\.?\[(\d+|\*|'[^']*')\]")
        while True:
            m = step.match(self.text, self.pos)
            if not m:
                break
            self.pos = m.end()
            key = m.group(1) or m.group(2)
            path.append(key[1:-1] if key.startswith("'") else int(key) if key.isdigit() else key)
        if not path:
            raise invalid_pattern("a selector needs at least one property ($.name)")
        if path.count("*") > 1:
            raise invalid_pattern("only one wildcard selector is allowed in a property selector")
        return path

    def value(self, op):
        self.space()
        text, pos = self.text, self.pos
        if text.startswith('"', pos):
            end, out = pos + 1, []
            while end < len(text) and text[end] != '"':
                if text[end] == "\\" and end + 1 < len(text):
                    end += 1
                out.append(text[end])
                end += 1
            if end >= len(text):
                raise invalid_pattern("unterminated string")
            self.pos = end + 1
            raw, quoted = "".join(out), True
        elif text.startswith("%", pos):
            end = text.find("%", pos + 1)
            if end < 0:
                raise invalid_pattern("unterminated regular expression")
            self.pos = end + 1
            if op not in ("=", "!="):
                raise invalid_pattern("a regular expression needs = or !=")
            return ("regex", aws_regex(text[pos + 1 : end], invalid_pattern))
        else:
            m = re.compile(r"[^\s()&|}]+").match(text, pos)
            if not m:
                raise invalid_pattern(f"expected a value at {text[pos:]!r}")
            self.pos = m.end()
            raw, quoted = m.group(0), False
        if not quoted and NUMBER.match(raw):
            return ("number", float(raw), raw)
        if op not in ("=", "!="):
            raise invalid_pattern(f"{op} needs a number, not {raw!r}")
        return ("string", wildcard_regex(raw), raw)

    @staticmethod
    def resolve(node, path):
        if not path:
            return [node]
        key, rest = path[0], path[1:]
        if key == "*":
            children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else []
            return [v for child in children for v in JsonPattern.resolve(child, rest)]
        if isinstance(key, int):
            ok = isinstance(node, list) and key < len(node)
        else:
            ok = isinstance(node, dict) and key in node
        return JsonPattern.resolve(node[key], rest) if ok else []

    @staticmethod
    def compare(value, op, literal):
        if isinstance(value, (dict, list)):
            return False  # a selector that points to an object or array never matches
        kind = literal[0]
        if kind == "number" and is_number(value):
            a, b = float(value), literal[1]
            return {"=": a == b, "!=": a != b, "<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]
        if value is None or isinstance(value, bool) or op not in ("=", "!="):
            return False
        text = json.dumps(value) if is_number(value) else value
        if kind == "regex":
            hit = literal[1].search(text) is not None
        elif kind == "number":
            hit = text == literal[2]
        else:
            hit = literal[1].fullmatch(text) is not None
        return hit == (op == "=")

    def evaluate(self, tree, doc):
        kind = tree[0]
        if kind == "and":
            return all(self.evaluate(t, doc) for t in tree[1])
        if kind == "or":
            return any(self.evaluate(t, doc) for t in tree[1])
        values = self.resolve(doc, tree[1])
        if kind == "is":
            if tree[2] == "NOT EXISTS":
                return not values
            wanted = {"IS TRUE": True, "IS FALSE": False, "IS NULL": None}[tree[2]]
            return any(v is wanted for v in values)
        return any(self.compare(v, tree[2], tree[3]) for v in values)

    def matches(self, message):
        try:
            doc = json.loads(message)
        except ValueError:
            return False  # a line that is not JSON never matches a JSON pattern
        return isinstance(doc, dict) and self.evaluate(self.tree, doc)


class TermPattern:
    """Terms and "quoted phrases" (all must appear, as moto had it), ?optional
    terms (any one must appear), -excluded terms, a standalone %regex%."""

    def __init__(self, text):
        self.regex = None
        if len(text) > 1 and text.startswith("%") and text.endswith("%"):
            self.regex = aws_regex(text[1:-1], invalid_pattern)
            return
        self.required, self.optional, self.excluded = [], [], []
        for m in re.finditer(r'([?-]?)(?:"((?:[^"\\]|\\.)*)"|(\S+))', text):
            sign, term = m.group(1), m.group(2) if m.group(2) is not None else m.group(3)
            if term == "":
                raise invalid_pattern("Invalid character(s) in term '\"\"'")
            {"?": self.optional, "-": self.excluded, "": self.required}[sign].append(term)
        if self.required:
            self.optional = []  # AWS ignores ?terms next to other terms

    def matches(self, message):
        if self.regex:
            return self.regex.search(message) is not None
        if any(t in message for t in self.excluded):
            return False
        if self.optional and not any(t in message for t in self.optional):
            return False
        return all(t in message for t in self.required if t.strip())


def compile_filter_pattern(pattern):
    text = (pattern or "").strip()
    if not text:
        return lambda message: True
    if text.startswith("{"):
        if not text.endswith("}"):
            raise invalid_pattern("If a filter pattern starts with '{' it must end with '}'")
        return JsonPattern(text).matches
    if text.startswith("["):
        return lambda message: True  # space-delimited patterns: moto's match-all, unchanged
    return TermPattern(text).matches


def event_order(event):
    # AWS: "sorted by event timestamp, the timestamp when the event was ingested
    # by CloudWatch Logs, and the ID of the PutLogEvents request"; moto's event
    # ids count up in the order events were put.
    return (event.timestamp, event.ingestion_time, event.event_id)


def filter_log_events(group, log_group_name, log_stream_names, start_time, end_time, limit, next_token, filter_pattern, interleaved):
    matches = compile_filter_pattern(filter_pattern)
    streams = [s for name, s in group.streams.items() if not log_stream_names or name in log_stream_names]
    found = sorted(
        (
            (event_order(e), e, s)
            for s in streams
            for e in s.events
            if (start_time is None or e.timestamp >= start_time)
            and (end_time is None or e.timestamp <= end_time)
            and matches(e.message)
        ),
        key=lambda item: item[0],
    )
    if next_token:
        try:
            group_name, after = next_token.rsplit("@", 1)
            if group_name != log_group_name:
                raise ValueError(group_name)
            after = tuple(int(part) for part in after.split("-"))
        except ValueError:
            found, after = [], None  # as moto had it: an unknown token gives an empty page
        if after is not None:
            found = [item for item in found if item[0] > after]
    page = found[: limit or 10000]
    events = [dict(e.to_filter_dict(), logStreamName=s.log_stream_name) for _, e, s in page]
    token = None
    if len(found) > len(page):
        token = f"{log_group_name}@" + "-".join(str(part) for part in page[-1][0])
    searched = [{"logStreamName": s.log_stream_name, "searchedCompletely": True} for s in streams]
    return events, token, searched


for name in ("EventMessageFilter", "execute_query", "LogQuery", "LogGroup", "LogsBackend"):
    if not hasattr(logs_models, name):
        sys.exit(f"scripts/moto_server.py: moto.logs.models has no {name}; review the CloudWatch Logs fixes")
if [p for p in inspect.signature(logs_models.LogGroup.filter_log_events).parameters] != [
    "self", "log_group_name", "log_stream_names", "start_time", "end_time", "limit", "next_token", "filter_pattern", "interleaved",
]:
    sys.exit("scripts/moto_server.py: moto's LogGroup.filter_log_events changed; review the FilterLogEvents fix")
logs_models.LogGroup.filter_log_events = filter_log_events


if __name__ == "__main__":
    sys.exit(main())
