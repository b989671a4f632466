"""Tests of scripts/moto_server.py's CloudWatch Logs fixes (6 to 8 in its
docstring), against the patched server started on a free loopback port.

    ~/.cache/ddns-ctl/venv/bin/python scripts/test_moto_logs.py
"""

import json
import os
import socket
import subprocess
import sys
import time
import unittest
from datetime import datetime, timezone

import boto3
from botocore.exceptions import ClientError

SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "moto_server.py")
GROUP = "/aws/lambda/ddns-test"
STREAM_A = "2025/01/01/[$LATEST]aaaa"
STREAM_B = "2025/01/01/[$LATEST]bbbb"
THE_QUERY = (
    'filter fields.message = "request" and (fields.result = "changed" or fields.result = "unchanged") '
    "| stats max(@timestamp) as last, latest(fields.old) as old, latest(fields.new) as new "
    "by fields.host, fields.result"
)


def request_line(host, result, old, new, request_id="r1"):
    span = {"requestId": request_id, "name": "Lambda runtime invoke"}
    return json.dumps({
        "level": "INFO",
        "fields": {
            "message": "request", "protocol": "dyndns2", "host": host, "result": result,
            "reason": "", "old": old, "new": new, "caller": old, "user_agent": "ddclient/3.11",
        },
        "span": span,
        "spans": [span],
    }, separators=(",", ":"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shown(ms):
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S.") + f"{ms % 1000:03d}"


class PatchedLogs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        port = free_port()
        cls.server = subprocess.Popen(
            [sys.executable, SERVER, "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if cls.server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the patched moto server did not start")
                time.sleep(0.1)
        cls.logs = boto3.client(
            "logs", region_name="us-east-1", endpoint_url=f"http://127.0.0.1:{port}",
            aws_access_key_id="test", aws_secret_access_key="test",
        )
        cls.logs.create_log_group(logGroupName=GROUP)
        for stream in (STREAM_A, STREAM_B):
            cls.logs.create_log_stream(logGroupName=GROUP, logStreamName=stream)
        t = cls.t0 = (int(time.time()) - 600) * 1000
        cls.put(STREAM_A, [
            (t, json.dumps({"time": "2025-01-01T00:00:00Z", "type": "platform.start", "record": {"requestId": "r1"}})),
            (t + 1000, request_line("home.example.com", "unchanged", "198.51.100.7", "198.51.100.7")),
            (t + 2000, "START RequestId: r2 Version: $LATEST"),
            (t + 3000, request_line("myhome.example.com", "changed", "198.51.100.1", "198.51.100.2")),
            (t + 5000, request_line("home.example.com", "changed", "198.51.100.7", "198.51.100.8")),
        ])
        cls.put(STREAM_B, [
            (t + 1000, request_line("home.example.com.evil.net", "unchanged", "203.0.113.9", "203.0.113.9")),
            (t + 4000, request_line("home.example.com", "unchanged", "198.51.100.8", "198.51.100.8")),
            (t + 4000, json.dumps({"level": "INFO", "fields": {"message": "config loaded", "host": "home.example.com"}})),
            (t + 6000, request_line("home.example.com", "badauth", "198.51.100.8", "198.51.100.8")),
            (t + 7000, json.dumps({"level": "WARN", "fields": {"message": "slow", "ms": 1500, "ok": True, "none": None}})),
        ])

    @classmethod
    def tearDownClass(cls):
        cls.server.terminate()
        cls.server.wait(timeout=10)

    @classmethod
    def put(cls, stream, lines):
        cls.logs.put_log_events(
            logGroupName=GROUP, logStreamName=stream,
            logEvents=[{"timestamp": ts, "message": m} for ts, m in lines],
        )

    def filtered(self, pattern=None, **kwargs):
        args = dict(logGroupName=GROUP, **kwargs)
        if pattern is not None:
            args["filterPattern"] = pattern
        events, token = [], None
        while True:
            page = self.logs.filter_log_events(**args, **({"nextToken": token} if token else {}))
            events += page["events"]
            token = page.get("nextToken")
            if not token:
                return events

    def hosts(self, pattern):
        return [json.loads(e["message"])["fields"].get("host") for e in self.filtered(pattern)]

    # FilterLogEvents with JSON filter patterns

    def test_the_three_patterns_of_ddns_ctl(self):
        self.assertEqual(
            self.hosts('{ $.fields.message = "request" }'),
            ["home.example.com", "home.example.com.evil.net", "myhome.example.com",
             "home.example.com", "home.example.com", "home.example.com"],
        )
        both = '{ ($.fields.message = "request") && ($.fields.host = "home.example.com") }'
        self.assertEqual([json.loads(e["message"])["fields"]["result"] for e in self.filtered(both)],
                         ["unchanged", "unchanged", "changed", "badauth"])
        three = ('{ ($.fields.message = "request") && ($.fields.host = "home.example.com") && '
                 '(($.fields.result = "changed") || ($.fields.result = "unchanged")) }')
        events = self.filtered(three)
        self.assertEqual([e["timestamp"] - self.t0 for e in events], [1000, 4000, 5000])
        self.assertEqual([e["logStreamName"] for e in events], [STREAM_A, STREAM_B, STREAM_A])

    def test_string_values_match_exactly_with_star_as_the_only_wildcard(self):
        self.assertEqual(self.hosts("{ $.fields.host = home.example.com && $.fields.result = changed }"),
                         ["home.example.com"])
        self.assertEqual(self.hosts('{ $.fields.host = "*.example.com" }'),
                         ["home.example.com", "myhome.example.com", "home.example.com",
                          "home.example.com", "home.example.com", "home.example.com"])
        self.assertEqual(self.hosts('{ $.fields.host = "home.example.*" }'),
                         ["home.example.com", "home.example.com.evil.net", "home.example.com",
                          "home.example.com", "home.example.com", "home.example.com"])
        # A missing property matches no comparison, != included.
        self.assertEqual(self.hosts('{ $.fields.host != "home.example.com" }'),
                         ["home.example.com.evil.net", "myhome.example.com"])
        self.assertEqual(self.hosts("{ $.fields.host = %^my% }"), ["myhome.example.com"])

    def counts(self, cases):
        for pattern, n in cases:
            with self.subTest(pattern=pattern):
                self.assertEqual(len(self.filtered(pattern)), n)

    def test_numbers_booleans_null_arrays_and_missing_properties(self):
        self.counts([
            ("{ $.fields.ms > 1000 }", 1),
            ("{ $.fields.ms >= 1.5e3 && $.fields.ms <= 1500 }", 1),
            ("{ $.fields.ms < 1000 }", 0),
            ("{ $.fields.ms != 1500 }", 0),
            ("{ $.fields.ok IS TRUE }", 1),
            ("{ $.fields.ok IS FALSE }", 0),
            ("{ $.fields.none IS NULL }", 1),
            ('{ $.spans[0].requestId = "r1" }', 6),
            ('{ $.spans[*].name = "Lambda*" }', 6),
            ('{ $.fields = "request" }', 0),  # an object never matches
            # Every JSON line but the one with ms; the plain text line never matches a JSON pattern.
            ("{ $.fields.ms NOT EXISTS }", 8),
            ('{ $.type = "platform.start" }', 1),
        ])

    def test_an_invalid_pattern_is_invalid_parameter(self):
        for pattern in ('{ $.fields.message = "request"', "{ fields.message = 1 }", "{ $.a EXISTS }",
                        "{ $.a > abc }", "{ ($.a = 1 }", '""', "{ $.a = %(x)% }"):
            with self.subTest(pattern=pattern), self.assertRaises(ClientError) as caught:
                self.logs.filter_log_events(logGroupName=GROUP, filterPattern=pattern)
            self.assertEqual(caught.exception.response["Error"]["Code"], "InvalidParameterException")

    def test_term_patterns(self):
        self.assertEqual([e["message"] for e in self.filtered('"START RequestId"')],
                         ["START RequestId: r2 Version: $LATEST"])
        self.counts([
            ("unchanged", 3),
            ("request unchanged", 3),
            ("?evil ?myhome", 2),
            ("unchanged -evil", 2),
            ('" "', 10),
            ("%Version: \\$LATEST$%", 1),
        ])

    # FilterLogEvents order, time range, streams and pages

    def test_events_are_interleaved_in_timestamp_then_ingestion_order(self):
        events = self.filtered()
        self.assertEqual(len(events), 10)
        self.assertEqual([e["timestamp"] for e in events], sorted(e["timestamp"] for e in events))
        keys = [(e["timestamp"], e["ingestionTime"]) for e in events]
        self.assertEqual(keys, sorted(keys))
        # Equal timestamps: stream A's events were put first.
        tie = [e["logStreamName"] for e in events if e["timestamp"] == self.t0 + 1000]
        self.assertEqual(tie, [STREAM_A, STREAM_B])

    def test_equal_timestamps_follow_the_order_events_were_put(self):
        group = GROUP + "-ties"
        self.logs.create_log_group(logGroupName=group)
        for stream in (STREAM_A, STREAM_B):
            self.logs.create_log_stream(logGroupName=group, logStreamName=stream)
        for stream, text in ((STREAM_B, "first"), (STREAM_A, "second"), (STREAM_B, "third")):
            self.logs.put_log_events(logGroupName=group, logStreamName=stream,
                                     logEvents=[{"timestamp": self.t0, "message": text}])
        events = self.logs.filter_log_events(logGroupName=group)["events"]
        self.assertEqual([e["message"] for e in events], ["first", "second", "third"])
        paged = []
        token = None
        while True:
            page = self.logs.filter_log_events(logGroupName=group, limit=1, **({"nextToken": token} if token else {}))
            paged += page["events"]
            token = page.get("nextToken")
            if not token:
                break
        self.assertEqual([e["eventId"] for e in paged], [e["eventId"] for e in events])

    def test_pages_have_no_duplicates_and_no_gaps(self):
        whole = self.logs.filter_log_events(logGroupName=GROUP)
        self.assertNotIn("nextToken", whole)
        ids = [e["eventId"] for e in whole["events"]]
        self.assertEqual(len(set(ids)), 10)
        for limit in (1, 2, 3, 4, 9, 10):
            with self.subTest(limit=limit):
                paged, pages = self.filtered(limit=limit), 0
                self.assertEqual([e["eventId"] for e in paged], ids)
                token = None
                while True:
                    page = self.logs.filter_log_events(logGroupName=GROUP, limit=limit,
                                                       **({"nextToken": token} if token else {}))
                    pages += 1
                    self.assertLessEqual(len(page["events"]), limit)
                    token = page.get("nextToken")
                    if not token:
                        break
                self.assertEqual(pages, -(-10 // limit))
        # The same events answer with the same ids.
        self.assertEqual([e["eventId"] for e in self.logs.filter_log_events(logGroupName=GROUP)["events"]], ids)

    def test_pages_of_a_filtered_range(self):
        pattern = '{ $.fields.message = "request" }'
        whole = self.filtered(pattern, startTime=self.t0 + 1000, endTime=self.t0 + 5000)
        self.assertEqual([e["timestamp"] - self.t0 for e in whole], [1000, 1000, 3000, 4000, 5000])
        self.assertEqual(self.filtered(pattern, startTime=self.t0 + 1000, endTime=self.t0 + 5000, limit=2), whole)

    def test_time_range_is_inclusive_at_both_ends(self):
        events = self.filtered(startTime=self.t0 + 1000, endTime=self.t0 + 4000)
        self.assertEqual([e["timestamp"] - self.t0 for e in events], [1000, 1000, 2000, 3000, 4000, 4000])

    def test_log_stream_names(self):
        events = self.filtered(logStreamNames=[STREAM_B])
        self.assertEqual({e["logStreamName"] for e in events}, {STREAM_B})
        self.assertEqual(len(events), 5)

    # Logs Insights

    def query(self, query, start=None, end=None):
        start = self.t0 // 1000 - 1 if start is None else start
        end = int(time.time()) + 60 if end is None else end
        query_id = self.logs.start_query(logGroupName=GROUP, startTime=start, endTime=end,
                                         queryString=query)["queryId"]
        first = self.logs.get_query_results(queryId=query_id)
        self.assertEqual(first["status"], "Running")
        self.assertEqual(first["results"], [])
        done = self.logs.get_query_results(queryId=query_id)
        self.assertEqual(done["status"], "Complete")
        return done

    @staticmethod
    def rows(answer):
        return [[(cell["field"], cell["value"]) for cell in row] for row in answer["results"]]

    def test_the_query_of_ddns_ctl(self):
        answer = self.query(THE_QUERY)
        t = self.t0
        expected = {
            ("home.example.com", "unchanged"): (t + 4000, "198.51.100.8", "198.51.100.8"),
            ("home.example.com", "changed"): (t + 5000, "198.51.100.7", "198.51.100.8"),
            ("myhome.example.com", "changed"): (t + 3000, "198.51.100.1", "198.51.100.2"),
            ("home.example.com.evil.net", "unchanged"): (t + 1000, "203.0.113.9", "203.0.113.9"),
        }
        rows = self.rows(answer)
        self.assertEqual(len(rows), len(expected))
        for row in rows:
            self.assertEqual([f for f, _ in row], ["fields.host", "fields.result", "last", "old", "new"])
            values = dict(row)
            last, old, new = expected[(values["fields.host"], values["fields.result"])]
            self.assertEqual((values["last"], values["old"], values["new"]), (shown(last), old, new))
        self.assertEqual(answer["statistics"]["recordsScanned"], 10.0)
        self.assertEqual(answer["statistics"]["recordsMatched"], 5.0)
        self.assertGreater(answer["statistics"]["bytesScanned"], 0)

    def test_the_query_honours_its_time_range(self):
        # Seconds, inclusive: the events at t0+1 s and t0+3 s are in, those after are out.
        rows = self.rows(self.query(THE_QUERY, start=self.t0 // 1000 + 1, end=self.t0 // 1000 + 3))
        self.assertEqual(sorted(dict(r)["fields.host"] for r in rows),
                         ["home.example.com", "home.example.com.evil.net", "myhome.example.com"])

    def test_fields_sort_limit_and_filter_operators(self):
        rows = self.rows(self.query(
            'fields @timestamp, fields.host | filter fields.message = "request" | sort @timestamp asc | limit 2'))
        self.assertEqual([[f for f, _ in r] for r in rows], [["@timestamp", "fields.host", "@ptr"]] * 2)
        self.assertEqual([dict(r)["@timestamp"] for r in rows], [shown(self.t0 + 1000)] * 2)
        newest = self.rows(self.query("fields @message | limit 1"))
        self.assertIn('"slow"', dict(newest[0])["@message"])
        count = 'stats count(*) as n'
        for query, n in [
            (r'filter fields.host like /^home\./ and fields.result in ["changed", "unchanged"] | ' + count, "4"),
            ("filter fields.message = 'request' and not fields.result = 'badauth' | " + count, "5"),
            ('filter fields.host like "example.com." | ' + count, "1"),
            ("filter fields.ms >= 1500 and fields.ms < 2000 | " + count, "1"),
            ("filter ispresent(fields.ms) or @message like /^START/ | " + count, "2"),
            ("filter fields.host not in ['home.example.com'] | " + count, "2"),
            ("filter not fields.host in ['home.example.com'] | " + count, "5"),  # 3 without a host
            ('filter fields.host not like "home" | ' + count, None),  # nothing matched: no rows
        ]:
            with self.subTest(query=query):
                self.assertEqual(self.rows(self.query(query)), [[("n", n)]] if n else [])
        by = self.rows(self.query('filter fields.message = "request" | stats count(*) as n, '
                                  "earliest(fields.old) as first by fields.host | sort n desc | limit 1"))
        self.assertEqual(by, [[("fields.host", "home.example.com"), ("n", "4"), ("first", "198.51.100.7")]])

    def test_a_missing_by_field_makes_a_group_without_it(self):
        rows = self.rows(self.query("filter ispresent(fields.message) | stats count(*) as n by fields.host"))
        self.assertIn([("n", "1")], rows)  # the "slow" line has no host

    def test_unknown_and_malformed_queries(self):
        with self.assertRaises(ClientError) as caught:
            self.logs.get_query_results(queryId="00000000-0000-0000-0000-000000000000")
        self.assertEqual(caught.exception.response["Error"]["Code"], "ResourceNotFoundException")
        for query in ('parse @message "* *" as a, b', "frobnicate x", 'filter fields.host ~ "x"',
                      "stats median(x)", "filter (a = 1", "limit x"):
            with self.subTest(query=query), self.assertRaises(ClientError) as caught:
                self.logs.start_query(logGroupName=GROUP, startTime=0, endTime=int(time.time()),
                                      queryString=query)
            self.assertEqual(caught.exception.response["Error"]["Code"], "MalformedQueryException")


if __name__ == "__main__":
    unittest.main()
