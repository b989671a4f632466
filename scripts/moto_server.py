"""moto's server, with fixes so that it answers as AWS does, then run
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

8. moto's Logs Insights knows `fields`, `sort` (by @timestamp only) and
   `limit`, silently skips every other command (a `filter` or `stats` is
   dropped, so every event is returned), shows @timestamp in milliseconds and
   answers Complete at once. Here `filter`, `stats`, `fields`, `display`,
   `sort` and `limit` run in order over JSON fields flattened with dots, an
   unknown command is MalformedQueryException, the first GetQueryResults of a
   query answers Running (so a client must poll, as on AWS), later ones
   Complete with statistics, and an unknown queryId is
   ResourceNotFoundException.

9. moto's Lambda ignores `LoggingConfig`: CreateFunction and
   UpdateFunctionConfiguration drop it and GetFunction never returns it.
   AWS keeps it and answers it with its defaults (`Text` and
   `/aws/lambda/<name>`; with `JSON`, both levels `INFO` unless set). It is
   kept and answered so.

10. moto 5.1 answers CloudWatch in the Query and JSON protocols only; AWS and
   the Rust SDK (aws-sdk-cloudwatch 1.118) speak Smithy RPC v2 CBOR
   (`POST /service/GraniteServiceVersion20100801/operation/OP`). Such a
   request is decoded (botocore's CBOR reader) and handed to moto as the JSON
   protocol's request; moto's JSON answer is encoded back into CBOR by the
   operation's output shape (botocore's CBOR writer, so timestamps carry tag
   1 as the SDK requires), with `smithy-protocol: rpc-v2-cbor`. Errors keep
   `__type` and `message`, and the status.

11. moto's SNS confirms every subscription at once. AWS confirms an email
   subscription only when the person follows the link in the message it
   sends: until then Subscribe answers `pending confirmation` (unless asked
   for the ARN with ReturnSubscriptionArn), and the topic's subscription
   listings show `PendingConfirmation` instead of an ARN. A new email or
   email-json subscription stays pending here (moto cannot send the mail nor
   be clicked).

12. moto's CloudWatch Logs PutMetricFilter appends a second filter of the same
   name; AWS's creates or replaces the log group's filter of that name.

13. moto's Route53 ChangeResourceRecordSets checks a DELETE against its journal
   of past changes, not the zone: a DELETE of a record set that is gone, or
   whose values differ, is InvalidInput or passes silently (an alias DELETE
   with any target deletes); a CREATE of an existing name and type with other
   values adds a second record set; a CNAME may share its name with other
   records; and a batch that fails half-way stays half-applied. Here, as on
   AWS, the batch is checked change after change against the zone and applied
   all or nothing; InvalidChangeBatch "Tried to create resource record set
   [name='N.', type='T'] but it already exists", "Tried to delete ... but it
   was not found", "... but the values provided do not match the current
   values" (TTL, values in any order, alias target), and the two CNAME
   conflict messages. An alias target's DNSName is kept as AWS answers it:
   lower case, ending in a dot.

14. moto's ACM DeleteCertificate deletes a certificate that an API Gateway
   domain name uses, and InUseBy stays empty. Here a domain name's regional
   certificate lists the domain name's ARN in InUseBy until the domain is
   deleted or moved to another certificate, and DeleteCertificate answers
   ResourceInUseException "Certificate ARN in account ACCOUNT is in use."

15. moto issues a DNS-validated certificate MOTO_ACM_VALIDATION_WAIT seconds
   (default 60) after the request whether or not its validation CNAME exists.
   Here it also needs, as on AWS, each of its DomainValidationOptions'
   ResourceRecord as a CNAME (name and value, case and final dot aside) in a
   public Route53 zone of the account.

16. moto's API Gateway CreateDomainName takes any regionalCertificateArn,
   replaces a domain name that exists, answers regionalHostedZoneId
   Z2FDTNDATAQYW2 (the edge one) and no ipAddressType; DeleteDomainName
   leaves its base path mappings behind, for a domain of the same name later.
   Here the certificate must be an ISSUED ACM certificate of the region
   (BadRequestException "Invalid certificate ARN: ..."), an existing name is
   BadRequestException "The domain name you provided already exists.", the
   hosted zone is the region's for regional APIs (Z1UJRXOUMOOFQ8 in
   us-east-1), ipAddressType defaults to ipv4, and mappings go with the
   domain name.

17. moto has no UpdateDomainName (a 500). `replace` of /regionalCertificateArn
   (checked as in 16, InUseBy moved), /securityPolicy and
   /endpointConfiguration/ipAddressType are applied, all checked before any;
   other paths are BadRequestException.

18. moto routes no GetTags, TagResource or UntagResource for a domain name's
   ARN (arn:aws:apigateway:REGION::/domainnames/NAME), a 404 page. They read
   and change the domain name's tags.

19. moto's base path mappings: a second mapping of the empty base path
   ("(none)") replaces the first (AWS: ConflictException "Base path already
   exists for this domain name"), and GetBasePathMappings (and the other
   mapping calls) of a domain name that never had one is a 500. A second is
   refused; none is an empty list.

20. moto's ListCertificates ignores MaxItems and GetDomainNames ignores limit
   (AWS's default 25), so neither ever answers a next page. They are paged
   with NextToken / position.

21. moto's UpdateRestApi takes `replace /disableExecuteApiEndpoint` as
   Python's bool() of the text, so "false" disables the execute-api URL as
   "true" does. AWS reads the text "true" or "false" (anything else is
   BadRequestException); so it is read here.

22. moto's CreateDeployment with the name of a stage that exists replaces the
   stage with a new one, dropping its method settings (the stage's
   throttling). AWS points the existing stage at the new deployment and keeps
   its settings (and adds the call's stage variables). So it does here.
"""

import copy
import inspect
import json
import re
import sys
from datetime import datetime, timezone
from functools import lru_cache
from urllib.parse import unquote

import moto.acm.models as acm_models
import moto.acm.responses as acm_responses
import moto.apigateway.exceptions as apigateway_exceptions
import moto.apigateway.models as apigateway_models
import moto.apigateway.responses as apigateway_responses
import moto.apigateway.urls as apigateway_urls
import moto.awslambda.models as lambda_models
import moto.logs.exceptions as logs_exceptions
import moto.logs.models as logs_models
import moto.route53.exceptions as route53_exceptions
import moto.route53.models as route53_models
import moto.route53.responses as route53_responses
import moto.s3.models as s3_models
import moto.sns.models as sns_models
import moto.sns.responses as sns_responses
from moto.core.exceptions import AWSError
from moto.logs.metric_filters import MetricFilters
from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
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
DISABLE_EXECUTE_API_PATH = "/disableExecuteApiEndpoint"
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
        elif op.get("op") == "replace" and op.get("path") == DISABLE_EXECUTE_API_PATH:
            # Patch 21: the value is the text "true" or "false".
            value = str(op.get("value")).lower()
            if value not in ("true", "false"):
                raise apigateway_exceptions.BadRequestException(
                    f"Invalid boolean value for disableExecuteApiEndpoint: {op.get('value')}"
                )
            api.disableExecuteApiEndpoint = value == "true"
        else:
            rest.append(op)
    return _rest_api_patch(api, rest)


apigateway_models.RestAPI.__init__ = rest_api_init
apigateway_models.RestAPI.apply_patch_operations = rest_api_patch

_create_deployment = apigateway_models.RestAPI.create_deployment
if "self.stages[name] = Stage(" not in inspect.getsource(_create_deployment):
    sys.exit("scripts/moto_server.py: moto's RestAPI.create_deployment changed; review patch 22")


def create_deployment(api, name, description, stage_variables=None):
    """Patch 22: a deployment to a stage that exists points the stage at it
    and keeps the stage's settings."""
    existing = api.stages.get(name) if name else None
    deployment = _create_deployment(api, name, description, stage_variables)
    if existing is not None:
        existing.deployment_id = api.stages[name].deployment_id
        existing.variables.update(stage_variables or {})
        api.stages[name] = existing
    return deployment


apigateway_models.RestAPI.create_deployment = create_deployment


# CloudWatch Logs: filter patterns (6), FilterLogEvents order and pages (7),
# Logs Insights (8). Each raises a moto error, so the client sees what AWS
# would answer.


def invalid_pattern(why):
    return logs_exceptions.InvalidParameterException(f"Invalid filter pattern: {why}")


class MalformedQueryException(logs_exceptions.LogsClientError):
    def __init__(self, msg):
        super().__init__("MalformedQueryException", msg)


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


class Ts(int):
    """A time in epoch milliseconds that Logs Insights shows as a date."""

    def __str__(self):
        when = datetime.fromtimestamp(int(self) / 1000, tz=timezone.utc)
        return when.strftime("%Y-%m-%d %H:%M:%S.") + f"{int(self) % 1000:03d}"


def flatten(prefix, node, out):
    if isinstance(node, dict):
        for key, value in node.items():
            flatten(f"{prefix}{key}.", value, out)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            flatten(f"{prefix}{index}.", value, out)
    elif node is not None:
        out[prefix[:-1]] = node


def record_of(event, stream, group):
    record = {}
    try:
        doc = json.loads(event.message)
    except ValueError:
        doc = None
    if isinstance(doc, dict):
        flatten("", doc, record)
    record.update({
        "@timestamp": Ts(event.timestamp),
        "@ingestionTime": Ts(event.ingestion_time),
        "@message": event.message,
        "@logStream": stream.log_stream_name,
        "@log": f"{group.account_id}:{group.name}",
        "@ptr": str(event.event_id),
    })
    return record


def show(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


TOKEN = re.compile(
    r"""\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?P<re>/(?:[^/\\]|\\.)*/)|`(?P<tick>[^`]*)`"""
    r"""|(?P<num>-?\d+(?:\.\d+)?)(?![\w.])|(?P<op>!=|<=|>=|=~|[=<>()\[\],|*])|(?P<name>[@A-Za-z_][@\w.]*))"""
)
COMMANDS = ("fields", "display", "filter", "stats", "sort", "limit")
AGGREGATES = ("count", "sum", "min", "max", "avg", "latest", "earliest")


def tokenize(query):
    tokens, pos = [], 0
    while query[pos:].strip():
        m = TOKEN.match(query, pos)
        if not m:
            raise MalformedQueryException(f"unexpected character at {query[pos:].strip()[:20]!r}")
        kind = m.lastgroup
        text = m.group(kind)
        if kind == "str":
            text = re.sub(r"\\(.)", r"\1", text[1:-1])
        elif kind == "re":
            text = text[1:-1]
        elif kind == "tick":
            kind = "name"
        tokens.append((kind, text))
        pos = m.end()
    return tokens


class Query:
    """A Logs Insights query: commands separated by |, run in order."""

    def __init__(self, query):
        tokens, self.commands = tokenize(query), []
        while tokens:
            cut = next((i for i, t in enumerate(tokens) if t == ("op", "|")), len(tokens))
            self.toks, self.at = tokens[:cut], 0
            tokens = tokens[cut + 1 :]
            head = self.next()
            if head[0] != "name" or head[1].lower() not in COMMANDS:
                raise MalformedQueryException(f"unknown or unsupported command {head[1]!r}")
            self.commands.append(getattr(self, "parse_" + head[1].lower())())
            if self.at < len(self.toks):
                raise MalformedQueryException(f"unexpected {self.toks[self.at][1]!r} in {head[1]}")
        if not self.commands:
            raise MalformedQueryException("the query is empty")

    def peek(self):
        return self.toks[self.at] if self.at < len(self.toks) else (None, None)

    def next(self):
        tok = self.peek()
        if tok[0] is None:
            raise MalformedQueryException("the query ends too soon")
        self.at += 1
        return tok

    def word(self, *words):
        tok = self.peek()
        if tok[0] == "name" and tok[1].lower() in words:
            self.at += 1
            return tok[1].lower()
        return None

    def expect(self, text):
        if self.next() != ("op", text):
            raise MalformedQueryException(f"expected {text!r}")

    def field(self):
        kind, text = self.next()
        if kind != "name":
            raise MalformedQueryException(f"expected a field name, not {text!r}")
        return text

    def alias(self, default):
        return self.field() if self.word("as") else default

    def listed(self, item):
        items = [item()]
        while self.peek() == ("op", ","):
            self.at += 1
            items.append(item())
        return items

    def parse_fields(self):
        return ("fields", self.listed(lambda: (lambda f: (f, self.alias(f)))(self.field())))

    def parse_display(self):
        return ("display", self.listed(self.field))

    def parse_limit(self):
        kind, text = self.next()
        if kind != "num" or not text.isdigit() or not 0 < int(text) <= 10000:
            raise MalformedQueryException("limit takes a whole number from 1 to 10000")
        return ("limit", int(text))

    def parse_sort(self):
        return ("sort", self.listed(lambda: (self.field(), self.word("asc", "desc") or "desc")))

    def parse_stats(self):
        def aggregate():
            fn = self.field().lower()
            if fn not in AGGREGATES:
                raise MalformedQueryException(f"unsupported stats function {fn!r}")
            self.expect("(")
            arg = "*" if self.peek() == ("op", "*") and self.next() else self.field()
            self.expect(")")
            if arg == "*" and fn != "count":
                raise MalformedQueryException(f"{fn}(*) is not a function")
            return fn, arg, self.alias(f"{fn}({arg})")

        aggs = self.listed(aggregate)
        groups = self.listed(lambda: (lambda f: (f, self.alias(f)))(self.field())) if self.word("by") else []
        return ("stats", aggs, groups)

    def parse_filter(self):
        return ("filter", self.either())

    def either(self):
        return joined(self.both, lambda: self.word("or"), "or")

    def both(self):
        return joined(self.negation, lambda: self.word("and"), "and")

    def negation(self):
        if self.word("not"):
            return ("not", self.negation())
        if self.peek() == ("op", "("):
            self.at += 1
            tree = self.either()
            self.expect(")")
            return tree
        return self.condition()

    def operand(self):
        kind, text = self.next()
        if kind == "str":
            return ("lit", text)
        if kind == "num":
            return ("lit", float(text) if "." in text else int(text))
        if kind == "name" and self.peek() == ("op", "("):
            fn = text.lower()
            if fn not in ("ispresent", "isempty", "isblank"):
                raise MalformedQueryException(f"unsupported function {text!r}")
            self.at += 1
            arg = self.field()
            self.expect(")")
            return ("fn", fn, arg)
        if kind == "name":
            return ("field", text)
        raise MalformedQueryException(f"unexpected {text!r}")

    def literal(self):
        operand = self.operand()
        if operand[0] != "lit":
            raise MalformedQueryException("in [...] takes strings and numbers")
        return operand[1]

    def condition(self):
        left = self.operand()
        negated = bool(self.word("not"))
        if self.word("like") or (self.peek() == ("op", "=~") and self.next()):
            kind, text = self.next()
            if kind == "str":
                pattern = re.compile(re.escape(text))
            elif kind == "re":
                flags = re.I if "(?i)" in text else 0
                try:
                    pattern = re.compile(text.replace("(?i)", ""), flags)
                except re.error as err:
                    raise MalformedQueryException(f"bad regular expression /{text}/: {err}")
            else:
                raise MalformedQueryException("like takes a \"string\" or a /regex/")
            return ("like", left, pattern, negated)
        if self.word("in"):
            self.expect("[")
            values = self.listed(self.literal)
            self.expect("]")
            return ("in", left, values, negated)
        if negated:
            raise MalformedQueryException("not must come before a condition, or before like or in")
        if self.peek()[0] == "op" and self.peek()[1] in ("=", "!=", "<", ">", "<=", ">="):
            return ("cmp", self.next()[1], left, self.operand())
        if left[0] != "fn":
            raise MalformedQueryException("expected a comparison")
        return left

    @staticmethod
    def value(operand, record):
        kind = operand[0]
        if kind == "lit":
            return operand[1]
        if kind == "field":
            return record.get(operand[1])
        present = record.get(operand[2])
        if operand[1] == "ispresent":
            return present is not None
        text = "" if present is None else show(present)
        return (text.strip() if operand[1] == "isblank" else text) == ""

    @staticmethod
    def number(value):
        if is_number(value):
            return value
        try:
            return float(value) if isinstance(value, str) and NUMBER.match(value.strip()) else None
        except ValueError:
            return None

    def test(self, tree, record):
        kind = tree[0]
        if kind == "and":
            return all(self.test(t, record) for t in tree[1])
        if kind == "or":
            return any(self.test(t, record) for t in tree[1])
        if kind == "not":
            return not self.test(tree[1], record)
        if kind == "fn":
            return bool(self.value(tree, record))
        left = self.value(tree[1] if kind != "cmp" else tree[2], record)
        if left is None:
            return False  # a missing field matches no comparison (see docs/moto.md)
        if kind == "like":
            return (tree[2].search(show(left)) is not None) != tree[3]
        if kind == "in":
            return any(self.equal(left, v) for v in tree[2]) != tree[3]
        op, right = tree[1], self.value(tree[3], record)
        if right is None:
            return False
        if op == "=":
            return self.equal(left, right)
        if op == "!=":
            return not self.equal(left, right)
        a, b = self.number(left), self.number(right)
        if a is None or b is None:
            a, b = show(left), show(right)
        return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]

    def equal(self, left, right):
        a, b = self.number(left), self.number(right)
        if a is not None and b is not None and (is_number(left) or is_number(right)):
            return a == b
        return show(left) == show(right)

    def stats(self, aggs, groups, records):
        buckets = {}
        for record in records:
            key = tuple(record.get(field) for field, _ in groups)
            buckets.setdefault(tuple(show(v) if v is not None else None for v in key), (key, []))[1].append(record)
        rows = []
        for key, members in buckets.values():
            row = {alias: v for (_, alias), v in zip(groups, key) if v is not None}
            for fn, arg, alias in aggs:
                if fn == "count" and arg == "*":
                    row[alias] = len(members)
                    continue
                have = [r for r in members if r.get(arg) is not None]
                if fn == "count":
                    row[alias] = len(have)
                elif fn in ("latest", "earliest") and have:
                    pick = max if fn == "latest" else min
                    row[alias] = pick(have, key=lambda r: r["_order"])[arg]
                elif fn in ("min", "max") and have:
                    values = [r[arg] for r in have]
                    nums = [self.number(v) for v in values]
                    if all(n is not None for n in nums):
                        best = (max if fn == "max" else min)(range(len(values)), key=lambda i: nums[i])
                        row[alias] = values[best]
                    else:
                        row[alias] = (max if fn == "max" else min)(show(v) for v in values)
                elif fn in ("sum", "avg"):
                    nums = [n for n in (self.number(r[arg]) for r in have) if n is not None]
                    if nums:
                        row[alias] = sum(nums) if fn == "sum" else sum(nums) / len(nums)
            rows.append(row)
        return rows

    def run(self, records):
        records = sorted(records, key=lambda r: r["_order"], reverse=True)  # newest first unless sorted
        columns, display, aggregated, matched = [], None, False, len(records)
        for command in self.commands:
            kind = command[0]
            if kind == "filter":
                records = [r for r in records if self.test(command[1], r)]
                matched = len(records) if not aggregated else matched
            elif kind == "fields":
                for field, alias in command[1]:
                    if alias != field:
                        for r in records:
                            if field in r:
                                r[alias] = r[field]
                    columns.append(alias)
            elif kind == "display":
                display = command[1]
            elif kind == "stats":
                if aggregated:
                    raise MalformedQueryException("only one stats command is supported here")
                records = self.stats(command[1], command[2], records)
                columns = [alias for _, alias in command[2]] + [alias for _, _, alias in command[1]]
                aggregated = True
            elif kind == "sort":
                for field, order in reversed(command[1]):
                    present = [r for r in records if r.get(field) is not None]
                    missing = [r for r in records if r.get(field) is None]
                    nums = all(self.number(r[field]) is not None for r in present)
                    present.sort(key=lambda r: self.number(r[field]) if nums else show(r[field]), reverse=order == "desc")
                    records = present + missing
            elif kind == "limit":
                records = records[: command[1]]
        if not aggregated:
            columns = (display or columns or ["@timestamp", "@message"]) + ["@ptr"]
        elif display:
            columns = display
        rows = [{c: show(r[c]) for c in dict.fromkeys(columns) if r.get(c) is not None} for r in records[:10000]]
        return rows, matched


def execute_query(log_groups, query, start_time, end_time):
    parsed = Query(query)
    scanned = []
    for group in log_groups:
        for stream in group.streams.values():
            for event in stream.events:
                # StartQuery's times are epoch seconds, both ends inclusive.
                if start_time is not None and event.timestamp < start_time * 1000:
                    continue
                if end_time is not None and event.timestamp > end_time * 1000:
                    continue
                record = record_of(event, stream, group)
                record["_order"] = event_order(event)
                scanned.append(record)
    rows, matched = parsed.run(scanned)
    results = QueryResults(rows)
    results.statistics = {
        "recordsMatched": float(matched),
        "recordsScanned": float(len(scanned)),
        "bytesScanned": float(sum(len(r["@message"].encode()) for r in scanned)),
    }
    return results


class QueryResults(list):
    statistics = None


_log_query_init = logs_models.LogQuery.__init__


def log_query_init(query, *args, **kwargs):
    _log_query_init(query, *args, **kwargs)
    query.status, query.polled = "Running", False  # Complete after the first GetQueryResults


def query_result_json(query):
    done = query.status == "Complete"
    return {
        "results": [[{"field": k, "value": v} for k, v in row.items()] for row in query.results] if done else [],
        "status": query.status,
        "statistics": query.results.statistics if done else dict.fromkeys(query.results.statistics, 0.0),
    }


def get_query_results(backend, query_id):
    query = backend.queries.get(query_id)
    if query is None:
        raise logs_exceptions.ResourceNotFoundException(f"Query {query_id} does not exist.")
    if query.polled:
        query.status = "Complete"
    query.polled = True
    return query


_start_query = logs_models.LogsBackend.start_query


def start_query(backend, log_group_names, start_time, end_time, query_string):
    if start_time is None or end_time is None:
        raise logs_exceptions.InvalidParameterException("startTime and endTime are required")
    if end_time < start_time:
        raise logs_exceptions.InvalidParameterException("endTime must be at or after startTime")
    return _start_query(backend, log_group_names, start_time, end_time, query_string)


if "execute_query(" not in inspect.getsource(logs_models.LogQuery.__init__):
    sys.exit("scripts/moto_server.py: moto's LogQuery no longer runs execute_query; review the Logs Insights fix")
logs_models.execute_query = execute_query
logs_models.LogQuery.__init__ = log_query_init
logs_models.LogQuery.to_result_json = query_result_json
logs_models.LogsBackend.get_query_results = get_query_results
logs_models.LogsBackend.start_query = start_query

def logging_config(name, sent, current=None):
    """LoggingConfig as Lambda answers it: `sent` over `current`, else over
    Lambda's defaults; log levels exist only with the JSON format."""
    config = dict(current or {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"})
    config.update(sent or {})
    if config.get("LogFormat") == "JSON":
        config.setdefault("ApplicationLogLevel", "INFO")
        config.setdefault("SystemLogLevel", "INFO")
    else:
        config.pop("ApplicationLogLevel", None)
        config.pop("SystemLogLevel", None)
    return config


_function_init = lambda_models.LambdaFunction.__init__
_get_configuration = lambda_models.LambdaFunction.get_configuration
_update_configuration = lambda_models.LambdaFunction.update_configuration


def function_init(function, account_id, spec, region, *args, **kwargs):
    _function_init(function, account_id, spec, region, *args, **kwargs)
    function.logging_config = logging_config(function.function_name, spec.get("LoggingConfig"))


def get_configuration(function, *args, **kwargs):
    config = _get_configuration(function, *args, **kwargs)
    config["LoggingConfig"] = function.logging_config
    return config


def update_configuration(function, config_updates):
    if "LoggingConfig" in config_updates:
        function.logging_config = logging_config(
            function.function_name, config_updates["LoggingConfig"], function.logging_config
        )
    return _update_configuration(function, config_updates)


if "LoggingConfig" in inspect.getsource(lambda_models.LambdaFunction):
    sys.exit("scripts/moto_server.py: moto's Lambda knows LoggingConfig now; review the LoggingConfig fix")
lambda_models.LambdaFunction.__init__ = function_init
lambda_models.LambdaFunction.get_configuration = get_configuration
lambda_models.LambdaFunction.update_configuration = update_configuration

# 10. CloudWatch over Smithy RPC v2 CBOR.
CBOR_PATH = "/service/GraniteServiceVersion20100801/operation/"


def cloudwatch_cbor(app):
    import base64
    import datetime
    import io

    import botocore.session
    from botocore.parsers import BaseCBORParser
    from botocore.serialize import RpcV2CBORSerializer

    model = botocore.session.get_session().get_service_model("cloudwatch")
    reader, writer = BaseCBORParser(), RpcV2CBORSerializer()

    def plain(value):
        if isinstance(value, datetime.datetime):
            return value.timestamp()
        if isinstance(value, (bytes, bytearray)):
            return base64.b64encode(value).decode()
        raise TypeError(type(value))

    def adapted(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if not path.startswith(CBOR_PATH):
            return app(environ, start_response)
        operation = path[len(CBOR_PATH):]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        params = reader.parse_data_item(reader.get_peekable_stream_from_bytes(raw)) if raw else {}
        body = json.dumps(params or {}, default=plain).encode()
        environ = dict(environ)
        environ.update(
            PATH_INFO="/",
            CONTENT_TYPE="application/x-amz-json-1.0",
            CONTENT_LENGTH=str(len(body)),
            HTTP_X_AMZ_TARGET=f"GraniteServiceVersion20100801.{operation}",
        )
        environ["wsgi.input"] = io.BytesIO(body)
        environ.pop("HTTP_SMITHY_PROTOCOL", None)
        environ.pop("HTTP_X_AMZN_QUERY_MODE", None)
        answer = {}

        def capture(status, headers, exc_info=None):
            answer["status"], answer["headers"] = status, headers

        chunks = b"".join(app(environ, capture))
        value = json.loads(chunks) if chunks.strip() else {}
        out = bytearray()
        status = answer["status"]
        shape = model.operation_model(operation).output_shape
        if status.startswith("2") and shape is not None:
            writer._serialize_data_item(out, value, shape)
        else:
            # An error (or an operation without output): a plain map of
            # strings, as the SDK reads `__type` and `message`.
            kind = str(value.get("__type", "")).split("#")[-1]
            error = {"__type": kind, "message": value.get("message") or value.get("Message") or ""}
            if status.startswith("2"):
                error = {}
            writer._serialize_type_map(out, error, _StringMap(), None)
        headers = [(k, v) for k, v in answer["headers"] if k.lower() not in ("content-type", "content-length")]
        headers += [
            ("Content-Type", "application/cbor"),
            ("Content-Length", str(len(out))),
            ("smithy-protocol", "rpc-v2-cbor"),
        ]
        start_response(status, headers)
        return [bytes(out)]

    return adapted


class _StringShape:
    type_name = "string"
    serialization = {}


class _StringMap:
    type_name = "map"
    serialization = {}
    key = _StringShape()
    value = _StringShape()


_dispatcher_call = DomainDispatcherApplication.__call__
_adapted = {}


def dispatcher_call(dispatcher, environ, start_response):
    inner = lambda e, s: _dispatcher_call(dispatcher, e, s)  # noqa: E731
    return cloudwatch_cbor(inner)(environ, start_response)


DomainDispatcherApplication.__call__ = dispatcher_call

# 11. Email subscriptions wait for the person to confirm them.
PENDING_PROTOCOLS = ("email", "email-json")
_subscribe = sns_models.SNSBackend.subscribe
_subscribe_response = sns_responses.SNSResponse.subscribe


def subscribe(backend, topic_arn, endpoint, protocol):
    existing = backend._find_subscription(topic_arn, endpoint, protocol)
    subscription = _subscribe(backend, topic_arn, endpoint, protocol)
    if existing is None and protocol in PENDING_PROTOCOLS:
        subscription.pending = True
        subscription.attributes["PendingConfirmation"] = "true"
    return subscription


def subscribe_response(response):
    result = _subscribe_response(response)
    subscription = response.backend.subscriptions.get(result.result["SubscriptionArn"])
    wants_arn = str(response._get_param("ReturnSubscriptionArn")).lower() == "true"
    if getattr(subscription, "pending", False) and not wants_arn:
        result._result = {"SubscriptionArn": "pending confirmation"}
    return result


sns_models.SNSBackend.subscribe = subscribe
sns_responses.SNSResponse.subscribe = subscribe_response
sns_models.Subscription.subscription_arn = property(
    lambda s: "PendingConfirmation" if getattr(s, "pending", False) else s.arn
)

# 12. PutMetricFilter replaces the log group's filter of that name.
_add_filter = MetricFilters.add_filter


def add_filter(filters, filter_name, filter_pattern, log_group_name, metric_transformations):
    filters.metric_filters = [
        f
        for f in filters.metric_filters
        if not (f["filterName"] == filter_name and f["logGroupName"] == log_group_name)
    ]
    return _add_filter(filters, filter_name, filter_pattern, log_group_name, metric_transformations)


MetricFilters.add_filter = add_filter

# 13 to 20: what `deploy --domain` calls (ACM, API Gateway domain names and
# base path mappings, Route53 alias records), answered as AWS does.


def require(ok, what):
    if not ok:
        sys.exit(f"scripts/moto_server.py: moto's {what} changed; review its fix")


# 13. Route53 ChangeResourceRecordSets.


class InvalidChangeBatch(route53_exceptions.Route53ClientError):
    code = 400

    def __init__(self, message):
        super().__init__("InvalidChangeBatch", message)


def dns_name(name):
    return str(name or "").rstrip(".").lower()


def rrset_label(name, type_, set_identifier):
    extra = f", set-identifier='{set_identifier}'" if set_identifier else ""
    return f"[name='{dns_name(name)}.', type='{type_}'{extra}]"


def rrset_key(rrset):
    return (dns_name(rrset.name), rrset.type_, rrset.set_identifier or None)


def rrset_content(rrset):
    """What DELETE must repeat exactly, in a form that ignores what AWS ignores
    (record order, the case and final dot of an alias target)."""
    alias = rrset.alias_target or None
    if alias:
        alias = (
            str(alias.get("HostedZoneId")),
            dns_name(alias.get("DNSName")),
            str(alias.get("EvaluateTargetHealth")).lower(),
        )
    ttl = str(int(rrset.ttl)) if rrset.ttl not in (None, "", 0, "0") else None
    return (
        ttl,
        sorted(str(v) for v in rrset.records or []),
        alias,
        str(rrset.weight or 0),
        rrset.region,
        str(rrset.failover or ""),
        str(rrset.geo_location or ""),
        str(rrset.multi_value or ""),
        rrset.health_check,
    )


def incoming_rrset(record_set):
    """moto's RecordSet of a change's ResourceRecordSet (as xmltodict read it)."""
    record_set = copy.deepcopy(record_set)
    if not record_set["Name"].endswith("."):
        record_set["Name"] += "."
    if record_set.get("ResourceRecords"):
        records = list(record_set["ResourceRecords"].values())[0]
        records = records if isinstance(records, list) else [records]
        record_set["ResourceRecords"] = [r["Value"] for r in records]
    elif "ResourceRecords" in record_set:
        record_set["ResourceRecords"] = []
    alias = record_set.get("AliasTarget")
    if alias and alias.get("DNSName"):
        # Route53 answers an alias target in lower case, ending in a dot.
        alias["DNSName"] = dns_name(alias["DNSName"]) + "."
    return route53_models.RecordSet(record_set)


def change_resource_record_sets(backend, zoneid, change_list):
    zone = backend.get_hosted_zone(zoneid)
    zone_name = dns_name(zone.name)
    rrsets = list(zone.rrsets)
    for change in change_list:
        action, record_set = change["Action"], change["ResourceRecordSet"]
        route53_models.validate_domain_name(record_set["Name"], code="InvalidChangeBatch")
        if action not in ("CREATE", "UPSERT", "DELETE"):
            raise route53_exceptions.InvalidActionValue(action)
        name = dns_name(record_set["Name"])
        if name != zone_name and not name.endswith("." + zone_name):
            raise route53_exceptions.DnsNameInvalidForZone(name=record_set["Name"], zone_name=zone.name)
        has_records = "TTL" in record_set and "ResourceRecords" in record_set
        if not record_set.get("AliasTarget") and not has_records:
            raise route53_exceptions.InvalidInput(
                "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], "
                f"or TrafficPolicyInstanceId], but found none in Change with [Action={action}, "
                f"Name={record_set['Name']}, Type={record_set.get('Type')}, "
                f"SetIdentifier={record_set.get('SetIdentifier', 'null')}]"
            )
        new = incoming_rrset(record_set)
        key = rrset_key(new)
        label = rrset_label(new.name, new.type_, new.set_identifier)
        current = next((r for r in rrsets if rrset_key(r) == key), None)
        if action == "DELETE":
            if current is None:
                raise InvalidChangeBatch(f"Tried to delete resource record set {label} but it was not found")
            if rrset_content(current) != rrset_content(new):
                raise InvalidChangeBatch(
                    f"Tried to delete resource record set {label} but the values provided do not match the current values"
                )
            rrsets.remove(current)
            continue
        if action == "CREATE" and current is not None:
            raise InvalidChangeBatch(f"Tried to create resource record set {label} but it already exists")
        others = [r for r in rrsets if dns_name(r.name) == name and r is not current]
        if new.type_ == "CNAME" and any(r.type_ != "CNAME" for r in others):
            raise InvalidChangeBatch(
                f"RRSet of type CNAME with DNS name {name}. is not permitted as it conflicts with other "
                f"records with the same DNS name in zone {zone_name}."
            )
        if new.type_ != "CNAME" and any(r.type_ == "CNAME" for r in others):
            raise InvalidChangeBatch(
                f"RRSet of type {new.type_} with DNS name {name}. is not permitted because a conflicting "
                f"RRSet of type CNAME with the same DNS name already exists in zone {zone_name}."
            )
        if current is not None:
            rrsets[rrsets.index(current)] = new
        else:
            rrsets.append(new)
    # All or nothing, as AWS applies a change batch.
    zone.rrsets = rrsets
    for change in change_list:
        zone.rr_changes.append(copy.deepcopy(change))


require(
    "rr_changes.has_insert_or_update" in inspect.getsource(route53_models.Route53Backend.change_resource_record_sets)
    and "self.rrsets" in inspect.getsource(route53_models.FakeZone.get_record_sets),
    "Route53 ChangeResourceRecordSets",
)
route53_models.Route53Backend.change_resource_record_sets = change_resource_record_sets


# 14 and 15. ACM: DNS validation needs the CNAME; a certificate in use stays.


def validation_record_present(account_id, name, value):
    backend = route53_models.route53_backends[account_id]["aws"]
    for zone in backend.zones.values():
        if zone.private_zone:
            continue
        for rrset in zone.rrsets:
            if rrset.type_ == "CNAME" and dns_name(rrset.name) == dns_name(name):
                if any(dns_name(v) == dns_name(value) for v in rrset.records or []):
                    return True
    return False


def validated(bundle):
    account_id = bundle.arn.split(":")[4]
    options = bundle.describe()["Certificate"].get("DomainValidationOptions", [])
    return all(
        validation_record_present(account_id, o["ResourceRecord"]["Name"], o["ResourceRecord"]["Value"])
        for o in options
    )


_cert_check = acm_models.CertBundle.check


def cert_check(bundle):
    pending = bundle.status == "PENDING_VALIDATION"
    _cert_check(bundle)
    if pending and bundle.status == "ISSUED" and not validated(bundle):
        bundle.status = "PENDING_VALIDATION"


class ResourceInUseException(AWSError):
    TYPE = "ResourceInUseException"


_delete_certificate = acm_models.AWSCertificateManagerBackend.delete_certificate


def delete_certificate(backend, arn):
    bundle = backend._certificates.get(arn)
    if bundle is not None and bundle.in_use_by:
        raise ResourceInUseException(f"Certificate {arn} in account {backend.account_id} is in use.")
    return _delete_certificate(backend, arn)


require(
    "ACM_VALIDATION_WAIT" in inspect.getsource(acm_models.CertBundle.check)
    and "acm-validations.aws" in inspect.getsource(acm_models.CertBundle.describe)
    and "in_use_by" in inspect.getsource(acm_models.CertBundle.__init__),
    "ACM certificate validation",
)
acm_models.CertBundle.check = cert_check
acm_models.AWSCertificateManagerBackend.delete_certificate = delete_certificate


# 16. API Gateway CreateDomainName and DeleteDomainName.

# The Route53 hosted zone of API Gateway's regional endpoints ("Amazon API
# Gateway endpoints and quotas"); moto answers the edge one, Z2FDTNDATAQYW2.
REGIONAL_HOSTED_ZONES = {
    "us-east-1": "Z1UJRXOUMOOFQ8", "us-east-2": "ZOJJZC49E0EPZ", "us-west-1": "Z2MUQ32089INYE",
    "us-west-2": "Z2OJLYMUO9EFXC", "ca-central-1": "Z19DQILCV0OWEC", "sa-east-1": "ZCMLWB8V5SYIT",
    "eu-west-1": "ZLY8HYME6SFDD", "eu-west-2": "ZJ5UAJN8Y3Z2Q", "eu-west-3": "Z3KY65QIEKYHQQ",
    "eu-central-1": "Z1U9ULNL0V5AJ3", "ap-south-1": "Z3VO1THU9YC4UR", "ap-northeast-1": "Z1YSHQZHG15GKL",
    "ap-northeast-2": "Z20JF4UZKIW1U8", "ap-northeast-3": "Z2YQB5RD63NC85",
    "ap-southeast-1": "ZL327KTPIQFUL", "ap-southeast-2": "Z2RPCDW04V8134",
}
SECURITY_POLICIES = ("TLS_1_0", "TLS_1_2")
IP_ADDRESS_TYPES = ("ipv4", "dualstack")
BadRequest = apigateway_exceptions.BadRequestException


def domain_arn(backend, name):
    return f"arn:aws:apigateway:{backend.region_name}::/domainnames/{name}"


def issued_certificate(backend, arn):
    """The ACM certificate a regional domain name may use, else BadRequest."""
    region = arn.split(":")[3] if arn.count(":") >= 5 else None
    if region != backend.region_name:
        raise BadRequest(f"Invalid certificate ARN: {arn}. Certificate must be in '{backend.region_name}'.")
    bundle = acm_models.acm_backends[backend.account_id][region]._certificates.get(arn)
    if bundle is None:
        raise BadRequest(f"Invalid certificate ARN: {arn}. The certificate does not exist.")
    bundle.check()
    if bundle.status != "ISSUED":
        raise BadRequest(
            f"Invalid certificate ARN: {arn}. Certificate must be in 'ISSUED' state; it is '{bundle.status}'."
        )
    return bundle


def release_certificate(backend, domain):
    arn = domain.regional_certificate_arn
    bundle = acm_models.acm_backends[backend.account_id][backend.region_name]._certificates.get(arn or "")
    if bundle is not None and domain_arn(backend, domain.domain_name) in bundle.in_use_by:
        bundle.in_use_by.remove(domain_arn(backend, domain.domain_name))


_create_domain_name = apigateway_models.APIGatewayBackend.create_domain_name
_delete_domain_name = apigateway_models.APIGatewayBackend.delete_domain_name


def create_domain_name(backend, domain_name, *args, **kwargs):
    names = inspect.signature(_create_domain_name).parameters
    given = dict(zip(list(names)[2:], args), **kwargs)
    if domain_name in backend.domain_names:
        raise BadRequest("The domain name you provided already exists.")
    if given.get("security_policy") and given["security_policy"] not in SECURITY_POLICIES:
        raise BadRequest(f"Invalid security policy: {given['security_policy']}")
    ip_type = (given.get("endpoint_configuration") or {}).get("ipAddressType")
    if ip_type and ip_type not in IP_ADDRESS_TYPES:
        raise BadRequest(f"Invalid IP address type: {ip_type}")
    bundle = issued_certificate(backend, given["regional_certificate_arn"]) if given.get("regional_certificate_arn") else None
    domain = _create_domain_name(backend, domain_name, *args, **kwargs)
    domain.regional_hosted_zone_id = REGIONAL_HOSTED_ZONES.get(backend.region_name, domain.regional_hosted_zone_id)
    domain.endpoint_configuration = dict(domain.endpoint_configuration or {"types": ["EDGE"]})
    domain.endpoint_configuration.setdefault("ipAddressType", "ipv4")
    domain.tags = dict(domain.tags or {})
    if bundle is not None:
        bundle.in_use_by.append(domain_arn(backend, domain_name))
    return domain


def delete_domain_name(backend, domain_name):
    domain = backend.domain_names.get(domain_name)
    _delete_domain_name(backend, domain_name)
    release_certificate(backend, domain)
    backend.base_path_mappings.pop(domain_name, None)  # deleted with the domain name


require(
    "regional_hosted_zone_id" in inspect.getsource(apigateway_models.DomainName.__init__)
    and "self.domain_names[domain_name] = new_domain_name" in inspect.getsource(_create_domain_name)
    and "base_path_mappings" not in inspect.getsource(_delete_domain_name),
    "API Gateway domain names",
)
apigateway_models.APIGatewayBackend.create_domain_name = create_domain_name
apigateway_models.APIGatewayBackend.delete_domain_name = delete_domain_name


# 17. UpdateDomainName (moto has none: a 500).


def update_domain_name(backend, domain_name, operations):
    domain = backend.get_domain_name(domain_name)
    changes = {}
    for op in operations or []:
        path, value = op.get("path"), op.get("value")
        if op.get("op") != "replace" or path not in (
            "/regionalCertificateArn", "/securityPolicy", "/endpointConfiguration/ipAddressType"
        ):
            raise BadRequest(
                f"Invalid patch path '{path}' specified for op '{op.get('op')}'. Must be one of: "
                "[/regionalCertificateArn, /securityPolicy, /endpointConfiguration/ipAddressType]"
            )
        if path == "/securityPolicy" and value not in SECURITY_POLICIES:
            raise BadRequest(f"Invalid security policy: {value}")
        if path == "/endpointConfiguration/ipAddressType" and value not in IP_ADDRESS_TYPES:
            raise BadRequest(f"Invalid IP address type: {value}")
        changes[path] = value
    bundle = None
    if "/regionalCertificateArn" in changes:
        bundle = issued_certificate(backend, changes["/regionalCertificateArn"])
    # Every operation is checked before any applies.
    if bundle is not None:
        release_certificate(backend, domain)
        domain.regional_certificate_arn = bundle.arn
        bundle.in_use_by.append(domain_arn(backend, domain_name))
    if "/securityPolicy" in changes:
        domain.security_policy = changes["/securityPolicy"]
    if "/endpointConfiguration/ipAddressType" in changes:
        domain.endpoint_configuration = dict(domain.endpoint_configuration or {"types": ["EDGE"]})
        domain.endpoint_configuration["ipAddressType"] = changes["/endpointConfiguration/ipAddressType"]
    return domain


def update_domain_name_response(response):
    name = unquote(response.path.split("/")[2])
    domain = update_domain_name(response.backend, name, response._get_param("patchOperations"))
    return 200, {}, json.dumps(domain.to_json())


require(not hasattr(apigateway_responses.APIGatewayResponse, "update_domain_name"), "API Gateway UpdateDomainName")
apigateway_responses.APIGatewayResponse.update_domain_name = update_domain_name_response


# 18. GetTags, TagResource and UntagResource of a domain name.

DOMAIN_TAGS_URL = "{0}/tags/arn:(?P<partition>[^/]+):apigateway:(?P<region_name>[^/]+)::/domainnames/(?P<domain_name>[^/]+)$"
DOMAIN_ARN = re.compile(r"arn:[^:]+:apigateway:[^:]*::/domainnames/([^/]+)$")


def tagged_domain(response):
    match = DOMAIN_ARN.match(unquote(response.path.split("/tags/", 1)[1]))
    return response.backend.get_domain_name(match.group(1)) if match else None


_tag_resource = apigateway_responses.APIGatewayResponse.tag_resource
_untag_resource = apigateway_responses.APIGatewayResponse.untag_resource


def get_tags(response):
    domain = tagged_domain(response)
    if domain is None:
        raise apigateway_exceptions.NotFoundException("Invalid resource identifier specified")
    return 200, {}, json.dumps({"tags": domain.tags or {}})


def tag_resource(response):
    domain = tagged_domain(response)
    if domain is None:
        return _tag_resource(response)
    domain.tags = dict(domain.tags or {}, **(response._get_param("tags") or {}))
    return 204, {}, ""


def untag_resource(response):
    domain = tagged_domain(response)
    if domain is None:
        return _untag_resource(response)
    keys = response.querystring.get("tagKeys") or []
    domain.tags = {k: v for k, v in (domain.tags or {}).items() if k not in keys}
    return 204, {}, ""


require(
    not hasattr(apigateway_responses.APIGatewayResponse, "get_tags")
    and DOMAIN_TAGS_URL not in apigateway_urls.url_paths,
    "API Gateway GetTags",
)
apigateway_urls.url_paths[DOMAIN_TAGS_URL] = apigateway_responses.APIGatewayResponse.dispatch
apigateway_responses.APIGatewayResponse.get_tags = get_tags
apigateway_responses.APIGatewayResponse.tag_resource = tag_resource
apigateway_responses.APIGatewayResponse.untag_resource = untag_resource


# 19. Base path mappings: one "(none)" a domain; none yet is an empty list.

_create_mapping = apigateway_models.APIGatewayBackend.create_base_path_mapping


def create_base_path_mapping(backend, domain_name, rest_api_id, base_path, stage):
    if domain_name in backend.domain_names:
        existing = backend.base_path_mappings.setdefault(domain_name, {})
        if (base_path or "(none)") in existing:
            raise apigateway_exceptions.BasePathConflictException()
    return _create_mapping(backend, domain_name, rest_api_id, base_path, stage)


def with_mappings(method):
    def wrapped(backend, domain_name, *args, **kwargs):
        if domain_name in backend.domain_names:
            backend.base_path_mappings.setdefault(domain_name, {})
        return method(backend, domain_name, *args, **kwargs)

    return wrapped


require(
    'new_base_path != "(none)"' in inspect.getsource(_create_mapping)
    and "self.base_path_mappings[domain_name].values()"
    in inspect.getsource(apigateway_models.APIGatewayBackend.get_base_path_mappings),
    "API Gateway base path mappings",
)
apigateway_models.APIGatewayBackend.create_base_path_mapping = create_base_path_mapping
for _name in ("get_base_path_mappings", "get_base_path_mapping", "delete_base_path_mapping", "update_base_path_mapping"):
    setattr(apigateway_models.APIGatewayBackend, _name, with_mappings(getattr(apigateway_models.APIGatewayBackend, _name)))


# 20. Pages: ListCertificates (MaxItems, NextToken), GetDomainNames (limit, position).


def page(items, start, size):
    try:
        start = int(start or 0)
    except ValueError:
        start = -1
    if start < 0 or start > len(items):
        return None, None
    end = len(items) if size is None else start + size
    return items[start:end], (str(end) if end < len(items) else None)


_list_certificates = acm_responses.AWSCertificateManagerResponse.list_certificates


def list_certificates(response):
    summaries = json.loads(_list_certificates(response))["CertificateSummaryList"]
    size = response._get_param("MaxItems")
    items, token = page(summaries, response._get_param("NextToken"), int(size) if size else None)
    if items is None:
        raise acm_models.AWSValidationException("The nextToken is invalid.", exception_type="InvalidArgsException")
    return json.dumps(dict({"CertificateSummaryList": items}, **({"NextToken": token} if token else {})))


def get_domain_names(response):
    domains = [d.to_json() for d in response.backend.get_domain_names()]
    limit = response.querystring.get("limit", [None])[0]
    items, position = page(domains, response.querystring.get("position", [None])[0], int(limit or 25))
    if items is None:
        raise BadRequest("Invalid position parameter")
    return json.dumps(dict({"item": items}, **({"position": position} if position else {})))


require(
    "MaxItems" not in inspect.getsource(_list_certificates)
    and "position" not in inspect.getsource(apigateway_responses.APIGatewayResponse.get_domain_names),
    "ListCertificates / GetDomainNames",
)
acm_responses.AWSCertificateManagerResponse.list_certificates = list_certificates
apigateway_responses.APIGatewayResponse.get_domain_names = get_domain_names


if __name__ == "__main__":
    sys.exit(main())
