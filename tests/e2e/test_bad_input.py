"""Bad input on OTLP/HTTP /v1/traces: each case gets the documented status and a
google.rpc.Status message naming the problem, in the request's content type; the server stays
up and nothing already stored is lost."""

from __future__ import annotations

import gzip
import http.client
import json
import re
import select
import socket
import subprocess
import zlib

import pytest
import requests
from google.rpc import status_pb2
from requests.structures import CaseInsensitiveDict

from otlp_build import make_request, make_span, new_span_id, new_trace_id, trace_batch
from waggle_harness import flatten, waggle_bin

PB = "application/x-protobuf"
JS = "application/json"
DEFAULT_LIMIT = 64 << 20


def error_message(r: requests.Response | tuple, content_type: str) -> str:
    """The google.rpc.Status message of an error response, checking its encoding."""
    if isinstance(r, tuple):
        status, headers, body = r
    else:
        status, headers, body = r.status_code, r.headers, r.content
    got = headers.get("Content-Type", "")
    assert got.startswith(content_type), \
        f"{status}: error body is {got!r}, not the request's {content_type!r}: {body[:300]!r}"
    if content_type == PB:
        msg = status_pb2.Status.FromString(body).message
    else:
        msg = json.loads(body)["message"]
    assert msg, f"{status}: empty message"
    return msg


def assert_error(r, status: int, content_type: str, *words: str) -> str:
    code = r[0] if isinstance(r, tuple) else r.status_code
    text = r[2][:300] if isinstance(r, tuple) else r.text[:300]
    assert code == status, f"expected {status}, got {code}: {text!r}"
    msg = error_message(r, content_type)
    if words:
        assert any(w in msg.lower() for w in words), f"message {msg!r} names none of {words}"
    return msg


@pytest.fixture
def loaded(waggle):
    """A server holding one trace stored before the bad input arrives."""
    body, expect = trace_batch(3, tag="before-bad-input")
    assert waggle.post_otlp(body).status_code == 200
    for tid in expect:
        waggle.wait_trace(tid, min_spans=3)
    waggle.expect = expect
    return waggle


def still_fine(srv) -> None:
    assert srv.alive(), srv.log_tail()
    assert requests.get(srv.http + "/healthz", timeout=10).status_code == 200
    for tid, ids in srv.expect.items():
        doc = srv.wait_trace(tid, min_spans=len(ids))
        assert {s["span_id"] for s in flatten(doc)} == ids


def valid_body() -> bytes:
    return trace_batch(2)[0]


def one_span_body(trace_id: bytes, span_id: bytes, parent: bytes = b"") -> bytes:
    return make_request({"bad-ids": [make_span(trace_id, span_id, parent)]}).SerializeToString()


# --- protobuf ---------------------------------------------------------------------------------
DECODE_WORDS = ("protobuf", "truncat", "length", "varint", "wire", "decode", "malformed",
                "invalid", "unexpected", "end of")


@pytest.mark.parametrize("port", ["otlp_http", "http"])
def test_truncated_protobuf(loaded, port):
    body = valid_body()
    # Cut inside the first ResourceSpans: its length prefix then runs past the end.
    r = loaded.post_otlp(body[: len(body) // 2], port=port)
    assert_error(r, 400, PB, *DECODE_WORDS)
    still_fine(loaded)


@pytest.mark.parametrize("garbage", [
    b"\x07this is not protobuf at all",   # wire type 7 does not exist
    b"\xff" * 12,                         # varint longer than 10 bytes
    b"\x0a\xff\xff\xff\xff\x0fxx",        # length 4 GiB, 2 bytes follow
    bytes(range(256)) * 4,
])
def test_garbage_protobuf(loaded, garbage):
    r = loaded.post_otlp(garbage)
    assert_error(r, 400, PB, *DECODE_WORDS)
    still_fine(loaded)


def test_trace_id_of_15_bytes(loaded):
    r = loaded.post_otlp(one_span_body(b"\x01" * 15, new_span_id()))
    msg = assert_error(r, 400, PB, "trace_id", "trace id", "traceid")
    assert "15" in msg or "16" in msg, msg
    still_fine(loaded)


def test_span_id_of_7_bytes(loaded):
    r = loaded.post_otlp(one_span_body(new_trace_id(), b"\x02" * 7))
    assert_error(r, 400, PB, "span_id", "span id", "spanid")
    r = loaded.post_otlp(one_span_body(new_trace_id(), new_span_id(), parent=b"\x03" * 7))
    assert_error(r, 400, PB, "parent_span_id", "parent")
    still_fine(loaded)


# --- JSON -------------------------------------------------------------------------------------
def test_invalid_json(loaded):
    for body in (b'{"resourceSpans": [', b"not json", b'{"resourceSpans": [{"scopeSpans": 5}]}'):
        r = loaded.post_otlp(body, content_type=JS)
        code = r.status_code
        assert code == 400, (body, code, r.text)
        assert_error(r, 400, JS, "json", "resourcespans", "scopespans", "expected", "invalid")
    still_fine(loaded)


def json_span(trace_hex: str, span_hex: str) -> bytes:
    return json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [{
        "traceId": trace_hex, "spanId": span_hex, "name": "x",
        "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000000001000000",
    }]}]}]}).encode()


@pytest.mark.parametrize("trace_hex,span_hex,words", [
    ("ab" * 15, "cd" * 8, ("trace",)),
    ("ab" * 16, "cd" * 7, ("span",)),
    ("zz" * 16, "cd" * 8, ("trace", "hex")),
])
def test_json_bad_ids(loaded, trace_hex, span_hex, words):
    r = loaded.post_otlp(json_span(trace_hex, span_hex), content_type=JS)
    assert_error(r, 400, JS, *words)
    still_fine(loaded)


# --- gzip -------------------------------------------------------------------------------------
def test_bad_gzip_stream(loaded):
    for body in (b"\x1f\x8b\x08\x00garbage-after-gzip-magic", b"plainly not gzip",
                 gzip.compress(valid_body())[:-12]):
        r = loaded.post_otlp(body, extra={"Content-Encoding": "gzip"})
        assert_error(r, 400, PB, "gzip", "inflate", "compress", "deflate")
    # The same valid body gzipped is accepted.
    body, expect = trace_batch(1)
    assert loaded.post_otlp(gzip.compress(body), extra={"Content-Encoding": "gzip"}).status_code == 200
    loaded.wait_trace(next(iter(expect)))
    still_fine(loaded)


# --- size limit -------------------------------------------------------------------------------
def body_limit_flag() -> str | None:
    """The serve flag that sets the body limit, if the binary has one."""
    out = subprocess.run([str(waggle_bin()), "serve", "--help"], capture_output=True, text=True,
                         timeout=30)
    m = re.search(r"--((?:max-)?(?:request-)?body[-a-z]*)", out.stdout + out.stderr)
    return "--" + m.group(1) if m else None


@pytest.fixture
def limited(waggle_factory):
    """A server with a small body limit when a flag allows it, else the default 64 MiB one."""
    flag = body_limit_flag()
    if flag:
        try:
            srv = waggle_factory(extra_args=(flag, str(1 << 20)))
            srv.limit = 1 << 20
            return srv
        except RuntimeError:
            pass
    srv = waggle_factory()
    srv.limit = DEFAULT_LIMIT
    return srv


def raw_post(addr: str, body_chunks, headers: dict[str, str]):
    """POSTs with a raw socket and stops sending as soon as the server answers (it may reject a
    too large body before reading it). Returns (status, headers, body)."""
    host, port = addr.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=30)
    try:
        head = "POST /v1/traces HTTP/1.1\r\nHost: %s\r\n" % addr
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        sock.sendall(head.encode())
        for chunk in body_chunks:
            if select.select([sock], [], [], 0)[0]:
                break
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError, socket.timeout):
                break
        resp = http.client.HTTPResponse(sock)
        resp.begin()
        return resp.status, CaseInsensitiveDict(resp.getheaders()), resp.read()
    finally:
        sock.close()


def test_body_over_limit_content_length(limited):
    n = limited.limit + 1024
    chunk = b"\x00" * (1 << 20)

    def chunks():
        left = n
        while left > 0:
            yield chunk[:min(left, len(chunk))]
            left -= len(chunk)

    r = raw_post(limited.addrs["otlp_http"], chunks(),
                 {"Content-Type": PB, "Content-Length": str(n), "x-honeycomb-team": "k"})
    assert_error(r, 413, PB, "limit", "large", "exceed")
    assert limited.alive()


def test_body_over_limit_chunked(limited):
    n = limited.limit + 1024
    piece = b"\x00" * (1 << 20)

    def chunks():
        left = n
        while left > 0:
            p = piece[:min(left, len(piece))]
            yield b"%x\r\n" % len(p) + p + b"\r\n"
            left -= len(p)
        yield b"0\r\n\r\n"

    r = raw_post(limited.addrs["otlp_http"], chunks(),
                 {"Content-Type": PB, "Transfer-Encoding": "chunked", "x-honeycomb-team": "k"})
    assert_error(r, 413, PB, "limit", "large", "exceed")
    assert limited.alive()


def test_gzip_bomb_over_limit(limited):
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    zero = b"\x00" * (1 << 20)
    body = b"".join(comp.compress(zero) for _ in range(limited.limit // len(zero) + 2)) + comp.flush()
    assert len(body) < 1 << 20
    r = limited.post_otlp(body, extra={"Content-Encoding": "gzip"})
    assert_error(r, 413, PB, "limit", "large", "exceed")
    assert limited.alive()
    body, expect = trace_batch(1)
    assert limited.post_otlp(body).status_code == 200


# --- content type and method ------------------------------------------------------------------
@pytest.mark.parametrize("ctype", ["text/plain", "application/xml", "application/grpc"])
def test_unknown_content_type_415(loaded, ctype):
    r = loaded.post_otlp(valid_body(), content_type=ctype)
    assert r.status_code == 415, r.text
    ct = r.headers.get("Content-Type", "")
    msg = error_message(r, PB if ct.startswith(PB) else JS if ct.startswith(JS) else ct)
    assert "content" in msg.lower() or "type" in msg.lower() or ctype in msg, msg
    still_fine(loaded)


def test_missing_content_type_415(loaded):
    r = requests.post(loaded.otlp_http + "/v1/traces", data=valid_body(),
                      headers={"x-honeycomb-team": "k", "Content-Type": ""}, timeout=10)
    assert r.status_code == 415, r.text
    still_fine(loaded)


def test_get_on_v1_traces_405(loaded):
    for base in (loaded.otlp_http, loaded.http):
        r = requests.get(base + "/v1/traces", headers={"x-honeycomb-team": "k"}, timeout=10)
        assert r.status_code == 405, (base, r.status_code, r.text)
    still_fine(loaded)


def test_many_bad_requests_on_one_connection_then_good(loaded):
    """Errors do not poison a keep-alive connection."""
    s = requests.Session()
    for i in range(50):
        r = loaded.post_otlp(b"\x07junk" if i % 2 else b"{", session=s,
                             content_type=PB if i % 2 else JS)
        assert r.status_code == 400
    body, expect = trace_batch(1)
    assert loaded.post_otlp(body, session=s).status_code == 200
    loaded.wait_trace(next(iter(expect)))
    still_fine(loaded)
