//! The `redline` binary: the command line lives in the library (`redline::cli`).

#[tokio::main]
async fn main() -> std::process::ExitCode {
    redline::cli::run().await
}
