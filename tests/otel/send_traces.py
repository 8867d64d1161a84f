"""Real OpenTelemetry clients for Redline's OTLP ingest test (tests/otlp_clients.rs).

Runs the real `openai` client, instrumented by one of three real instrumentations, against a
small local stand-in for the OpenAI API (canned chat completions, one of them a tool call),
and exports the spans with the OpenTelemetry SDK's OTLP/HTTP exporter (protobuf) to the
endpoint in OTEL_EXPORTER_OTLP_ENDPOINT, or, with --save FILE, writes the protobuf request
the exporter would send to FILE instead (how tests/fixtures/otlp/*.pb were made).

    send_traces.py openai-v2|openinference|openllmetry|openllmetry-legacy [--save FILE]

Each instrumentation runs in a process of its own: they all patch the same client.
`openllmetry-legacy` is OpenLLMetry under another service name, for a Python that has an
older release installed (tests/fixtures/otlp/openllmetry-legacy.pb was made with
opentelemetry-instrumentation-openai 0.40.14 and openai 1.99.9, which still wrote the
flattened gen_ai.prompt.{i}.* attributes that releases since have replaced).
"""

import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

INSTRUMENTATION = sys.argv[1]
SAVE = sys.argv[3] if len(sys.argv) > 3 and sys.argv[2] == "--save" else None

# Content on spans: each instrumentation's own switch, set before it is imported.
os.environ["OTEL_SEMCONV_STABILITY_OPT_IN"] = "gen_ai_latest_experimental"
os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "span_only"
os.environ["TRACELOOP_TRACE_CONTENT"] = "true"

from opentelemetry import trace  # noqa: E402
from opentelemetry.sdk.resources import Resource  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import (  # noqa: E402
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)

RESPONSE_MODEL = "gpt-4o-mini-2024-07-18"


def completion(request):
    """A chat completion as the OpenAI API answers it; a tool call when tools were offered."""
    if request.get("tools"):
        message = {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_weather_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
                }
            ],
        }
        finish = "tool_calls"
    else:
        message = {"role": "assistant", "content": "The customer cannot log in after the update."}
        finish = "stop"
    return {
        "id": "chatcmpl-redline-test",
        "object": "chat.completion",
        "created": 1764979200,
        "model": RESPONSE_MODEL,
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": {"prompt_tokens": 42, "completion_tokens": 9, "total_tokens": 51},
        "system_fingerprint": "fp_test",
    }


class StandIn(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (the standard library's name)
        length = int(self.headers.get("content-length", "0"))
        request = json.loads(self.rfile.read(length) or b"{}")
        body = json.dumps(completion(request)).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class SaveToFile(SpanExporter):
    """Writes the OTLP protobuf request of the spans it is given, as the exporter encodes it."""

    def __init__(self, path):
        self.path = path
        self.spans = []

    def export(self, spans):
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self):
        from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

        with open(self.path, "wb") as out:
            out.write(encode_spans(self.spans).SerializeToString())


def instrument():
    if INSTRUMENTATION == "openai-v2":
        from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
    elif INSTRUMENTATION == "openinference":
        from openinference.instrumentation.openai import OpenAIInstrumentor
    elif INSTRUMENTATION in ("openllmetry", "openllmetry-legacy"):
        from opentelemetry.instrumentation.openai import OpenAIInstrumentor
    else:
        sys.exit(f"unknown instrumentation {INSTRUMENTATION}")
    OpenAIInstrumentor().instrument()


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    resource = Resource.create({"service.name": f"support-bot-{INSTRUMENTATION}"})
    provider = TracerProvider(resource=resource)
    if SAVE:
        exporter = SaveToFile(SAVE)
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    instrument()

    import openai

    client = openai.OpenAI(base_url=f"http://127.0.0.1:{server.server_port}/v1", api_key="sk-test")
    tracer = trace.get_tracer("redline-test")
    # The LLM calls inside a span of the application's own, which Redline must ignore.
    with tracer.start_as_current_span("handle ticket 4711"):
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[
                {"role": "system", "content": "Summarize the support ticket in one sentence."},
                {"role": "user", "content": "Since the update I cannot log in. Ticket 4711."},
            ],
        )
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "What is the weather in Oslo?"}],
            tools=[
                {
                    "type": "function",
                    "function": {
                        "name": "get_weather",
                        "description": "The weather in a city",
                        "parameters": {
                            "type": "object",
                            "properties": {"city": {"type": "string"}},
                            "required": ["city"],
                        },
                    },
                }
            ],
        )
    provider.shutdown()
    server.shutdown()


if __name__ == "__main__":
    main()
