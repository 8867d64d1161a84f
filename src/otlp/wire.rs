//! OTLP over HTTP on the wire: the two encodings (binary protobuf and JSON), gzip, and the
//! answers the specification defines (`ExportTraceServiceResponse` on success, a
//! `google.rpc.Status` on failure), each in the request's encoding.

use std::io::Read;

use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;

use super::MAX_DECODED_BYTES;

/// The request's (and so the answer's) encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Protobuf,
    Json,
}

impl Encoding {
    /// From a `Content-Type` header (parameters ignored); `None` for any other type.
    pub fn of(content_type: Option<&str>) -> Option<Encoding> {
        let essence = content_type?.split(';').next()?.trim().to_ascii_lowercase();
        match essence.as_str() {
            "application/x-protobuf" | "application/protobuf" => Some(Encoding::Protobuf),
            "application/json" => Some(Encoding::Json),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }
}

/// A refusal: the HTTP status and what to tell the exporter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub message: String,
}

impl Refusal {
    fn bad(message: impl Into<String>) -> Refusal {
        Refusal {
            status: 400,
            message: message.into(),
        }
    }
}

/// The body as sent, or inflated when `Content-Encoding` says gzip; never more than
/// [`MAX_DECODED_BYTES`] once inflated (a small body can inflate to gigabytes).
pub fn inflate(body: &[u8], content_encoding: Option<&str>) -> Result<Vec<u8>, Refusal> {
    match content_encoding
        .map(|e| e.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("") | Some("identity") => Ok(body.to_vec()),
        Some("gzip") | Some("x-gzip") => {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(body)
                .take(MAX_DECODED_BYTES as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|e| Refusal::bad(format!("the body is not valid gzip: {e}")))?;
            if out.len() > MAX_DECODED_BYTES {
                return Err(Refusal {
                    status: 413,
                    message: format!(
                        "the body inflates to over {MAX_DECODED_BYTES} bytes; send smaller batches"
                    ),
                });
            }
            Ok(out)
        }
        Some(other) => Err(Refusal {
            status: 415,
            message: format!(
                "Content-Encoding \"{}\" is not supported; send gzip or no encoding",
                other.chars().take(40).collect::<String>()
            ),
        }),
    }
}

/// The export request in `bytes`, decoded with the OpenTelemetry project's generated types.
pub fn decode(bytes: &[u8], encoding: Encoding) -> Result<ExportTraceServiceRequest, Refusal> {
    match encoding {
        Encoding::Protobuf => ExportTraceServiceRequest::decode(bytes).map_err(|e| {
            Refusal::bad(format!(
                "the body is not an OTLP ExportTraceServiceRequest in protobuf: {e}"
            ))
        }),
        Encoding::Json => serde_json::from_slice(bytes).map_err(|e| {
            Refusal::bad(format!(
                "the body is not an OTLP ExportTraceServiceRequest in JSON: {e}"
            ))
        }),
    }
}

/// The success answer: `partial_success` only when spans were rejected.
pub fn encode_response(rejected: usize, error_message: String, encoding: Encoding) -> Vec<u8> {
    let response = ExportTraceServiceResponse {
        partial_success: (rejected > 0).then(|| ExportTracePartialSuccess {
            rejected_spans: i64::try_from(rejected).unwrap_or(i64::MAX),
            error_message,
        }),
    };
    match encoding {
        Encoding::Protobuf => response.encode_to_vec(),
        Encoding::Json => serde_json::to_vec(&response).unwrap_or_else(|_| b"{}".to_vec()),
    }
}

/// `google.rpc.Status` (code and message; no details): the body OTLP/HTTP gives failures.
/// Not among the OpenTelemetry project's generated types, so its two fields are declared here.
#[derive(Clone, PartialEq, Message)]
pub struct Status {
    #[prost(int32, tag = "1")]
    pub code: i32,
    #[prost(string, tag = "2")]
    pub message: String,
}

/// The gRPC code that matches an HTTP status (google.rpc.Code).
fn grpc_code(status: u16) -> i32 {
    match status {
        400 | 415 => 3, // INVALID_ARGUMENT
        401 => 16,      // UNAUTHENTICATED
        403 => 7,       // PERMISSION_DENIED
        413 | 429 => 8, // RESOURCE_EXHAUSTED
        503 => 14,      // UNAVAILABLE
        _ => 13,        // INTERNAL
    }
}

pub fn encode_status(refusal: &Refusal, encoding: Encoding) -> Vec<u8> {
    let code = grpc_code(refusal.status);
    match encoding {
        Encoding::Protobuf => Status {
            code,
            message: refusal.message.clone(),
        }
        .encode_to_vec(),
        Encoding::Json => serde_json::json!({"code": code, "message": refusal.message})
            .to_string()
            .into_bytes(),
    }
}
