"""The example service: a FastAPI app exposing /metrics with
prometheus-fastapi-instrumentator, which counts requests in
`http_requests_total{handler,method,status}`. The end-to-end test runs this
file under uvicorn and scrapes it with a real Prometheus."""

from fastapi import FastAPI
from prometheus_fastapi_instrumentator import Instrumentator

app = FastAPI()
# Scrapes of /metrics are not requests to scale on.
Instrumentator(excluded_handlers=["/metrics"]).instrument(app).expose(app)


@app.get("/")
def index():
    return {"status": "ok"}
