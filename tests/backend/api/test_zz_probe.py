import time
from backend.app import create_app
from tests.conftest import base_settings
from tests.backend.api.helpers import report_body

def test_probe(settings, backend):
    t = time.perf_counter()
    app = create_app(settings); c = app.test_client()
    t1 = time.perf_counter()
    c.get("/api/v1/categories"); t2 = time.perf_counter()
    c.get("/api/v1/categories"); t3 = time.perf_counter()
    c.post("/api/v1/reports", json=report_body()); t4 = time.perf_counter()
    c.post("/api/v1/reports", json=report_body()); t5 = time.perf_counter()
    c.get("/api/v1/reports?bbox=a"); t6 = time.perf_counter()
    print(backend, "app %.3f first %.3f second %.3f create %.3f create2 %.3f bad %.3f" % (t1-t, t2-t1, t3-t2, t4-t3, t5-t4, t6-t5))
