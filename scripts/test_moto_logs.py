"""Tests of scripts/moto_server.py's CloudWatch Logs fixes (6 and 7 in its
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

import boto3
from botocore.exceptions import ClientError

SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "moto_server.py")
GROUP = "/aws/lambda/ddns-test"
STREAM_A = "2025/01/01/[$LATEST]aaaa"
STREAM_B = "2025/01/01/[$LATEST]bbbb"
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


if __name__ == "__main__":
    unittest.main()
