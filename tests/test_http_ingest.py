"""A feed pulled over real HTTP (loopback) through the ingestion asset's code path."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from builders import write_registers
from conftest import ingest_all, query

from pipelines.lib.http_source import SourceAuthError

TOKEN = "s3cret-token"


class PaymentsAPI(BaseHTTPRequestHandler):
    """GET /transactions?from&to&page: two items a month, one per page."""

    requests: list[str] = []

    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):  # noqa: N802
        type(self).requests.append(self.path)
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.send_response(401)
            self.end_headers()
            return
        query_args = parse_qs(urlparse(self.path).query)
        start, page = query_args["from"][0], int(query_args["page"][0])
        month = start[:7]
        item = {
            "ma_giao_dich": f"{month}-{page}",
            "ma_ho_so": f"S01-{month}-{page}",
            "ma_thu_tuc": "1.004227",
            "ma_don_vi": "S01",
            "thoi_diem": f"{month}-0{page}T09:00:00",
            "so_tien": 10000 * page,
            "kenh": "dvcqg" if page == 1 else "truc_tiep",
            "trang_thai": "thanh_cong",
        }
        body = json.dumps({"items": [item], "page": page, "pages": 2}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def api():
    PaymentsAPI.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), PaymentsAPI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_pull_is_archived_parsed_and_not_repeated(make_settings, tmp_path, api, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    write_registers(tmp_path / "sources")
    settings = make_settings(as_of="2021-02-20", PAR_PAYMENTS_URL=api, PAR_PAYMENTS_TOKEN=TOKEN)
    result = ingest_all(settings, ["units", "procedures", "payments"])["payments"]
    # windows 2021-01 and 2021-02 (clipped at the as-of date), two pages each: one export per pull
    assert len(PaymentsAPI.requests) == 4
    assert result.exports_new == 2 and result.rows_loaded == 4
    exports = query(
        settings, "SELECT file_name, origin, origin_uri FROM raw.exports WHERE feed = 'payments' ORDER BY 1"
    )
    assert [e[0] for e in exports] == [
        "payments_2021-01-01_2021-01-31.json",
        "payments_2021-02-01_2021-02-20.json",
    ]
    assert all(e[1] == "http" and TOKEN not in e[2] for e in exports)
    assert query(settings, "SELECT ma_giao_dich, so_tien, kenh FROM raw.payments ORDER BY 1") == [
        ("2021-01-1", 10000, "dvcqg"),
        ("2021-01-2", 20000, "truc_tiep"),
        ("2021-02-1", 10000, "dvcqg"),
        ("2021-02-2", 20000, "truc_tiep"),
    ]
    # Both months were pulled after their reporting deadline had passed (real time): they are final.
    ingest_all(settings, ["payments"])
    assert len(PaymentsAPI.requests) == 4


def test_http_401_fails_naming_the_token_variable(make_settings, tmp_path, api, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    write_registers(tmp_path / "sources")
    settings = make_settings(as_of="2021-01-20", PAR_PAYMENTS_URL=api, PAR_PAYMENTS_TOKEN="wrong")
    ingest_all(settings, ["units", "procedures"])
    with pytest.raises(SourceAuthError, match="PAR_PAYMENTS_TOKEN"):
        ingest_all(settings, ["payments"])
    assert query(settings, "SELECT count(*) FROM raw.exports WHERE feed = 'payments'") == [(0,)]
