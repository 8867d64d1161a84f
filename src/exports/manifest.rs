//! The manifest file of a finished export: its summary (spec, counts, report, files), then
//! every example with the call and review revision it came from.
//!
//! The examples go to a scratch file (the spool) as lines are written, one compact JSON
//! entry a line, and are copied from it as they are into the manifest's `examples` list,
//! still one a line. At a million examples that is half the bytes of pretty-printed entries
//! (138 MB were written for a 1M-call export) and no second parse of the spool.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::model::export::{ExportManifest, ManifestEntry};

/// The manifest's list of examples while the export is written.
pub struct Spool {
    path: PathBuf,
    out: BufWriter<File>,
}

impl Spool {
    pub fn create(path: PathBuf) -> std::io::Result<Spool> {
        let file = File::create(&path)?;
        Ok(Spool {
            path,
            out: BufWriter::with_capacity(256 * 1024, file),
        })
    }

    pub fn push(&mut self, entry: &ManifestEntry) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.out, entry)?;
        self.out.write_all(b"\n")
    }

    /// Flushes the spool and gives its path, to be copied into the manifest.
    pub fn finish(mut self) -> std::io::Result<PathBuf> {
        self.out.flush()?;
        Ok(self.path)
    }
}

/// Writes the manifest: `summary` pretty-printed (its own `examples` left empty), with the
/// spool's entries as its `examples`, one a line. The result parses as the summary with
/// those examples.
pub fn write(out: &mut impl Write, summary: &ExportManifest, spool: &Path) -> std::io::Result<()> {
    let mut head = serde_json::to_vec_pretty(summary)?;
    // The pretty summary ends with its object's closing brace: the list goes in before it.
    if head.pop() != Some(b'}') {
        return Err(std::io::Error::other(
            "the manifest's summary is not a JSON object",
        ));
    }
    while head.last().is_some_and(u8::is_ascii_whitespace) {
        head.pop();
    }
    out.write_all(&head)?;
    if head.last() != Some(&b'{') {
        out.write_all(b",")?;
    }
    out.write_all(b"\n  \"examples\": [")?;
    let mut lines = BufReader::with_capacity(256 * 1024, File::open(spool)?);
    let mut line = Vec::with_capacity(256);
    let mut first = true;
    loop {
        line.clear();
        if lines.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        if line.is_empty() {
            continue;
        }
        out.write_all(if first { b"\n    " } else { b",\n    " })?;
        out.write_all(&line)?;
        first = false;
    }
    out.write_all(if first { b"]\n}\n" } else { b"\n  ]\n}\n" })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::export::{ExportFile, ExportRequest, Split};
    use chrono::{TimeZone, Utc};

    fn summary() -> ExportManifest {
        let spec = ExportRequest {
            format: Some("chat_jsonl".into()),
            ..ExportRequest::default()
        }
        .into_spec()
        .unwrap();
        let at = Utc.with_ymd_and_hms(2026, 12, 7, 21, 0, 0).unwrap();
        ExportManifest {
            export_id: 7,
            spec,
            created_by: "eng".into(),
            created_at: at,
            finished_at: at,
            redline_version: "0.1.0".into(),
            counts: Default::default(),
            redactions: Default::default(),
            validation: None,
            files: vec![ExportFile {
                part: "train".into(),
                name: "export-7-train.jsonl".into(),
                bytes: 12,
                sha256: "ab".repeat(32),
            }],
            examples: Vec::new(),
        }
    }

    fn manifest_of(entries: &[ManifestEntry]) -> String {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let scratch =
            std::env::temp_dir().join(format!("redline-manifest-test-{}-{n}", std::process::id()));
        let mut spool = Spool::create(scratch.clone()).unwrap();
        for entry in entries {
            spool.push(entry).unwrap();
        }
        let path = spool.finish().unwrap();
        let mut out = Vec::new();
        write(&mut out, &summary(), &path).unwrap();
        std::fs::remove_file(&scratch).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_manifest_is_the_summary_with_every_example_one_a_line() {
        let entries: Vec<ManifestEntry> = (0..3)
            .map(|i| ManifestEntry {
                call_id: format!("call-{i}"),
                split: if i == 1 {
                    Split::Validation
                } else {
                    Split::Train
                },
                revision: i,
                reviewer: (i > 0).then(|| "رنا \"r\"".to_string()),
            })
            .collect();
        let text = manifest_of(&entries);
        let parsed: ExportManifest = serde_json::from_str(&text).unwrap();
        assert_eq!(
            parsed,
            ExportManifest {
                examples: entries.clone(),
                ..summary()
            }
        );
        // Each entry whole on its own line, in the order written.
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| l.trim_start().starts_with("{\"call_id\""))
            .collect();
        assert_eq!(lines.len(), 3);
        for (line, entry) in lines.iter().zip(&entries) {
            let line = line.trim().trim_end_matches(',');
            let back: ManifestEntry = serde_json::from_str(line).unwrap();
            assert_eq!(&back, entry);
        }
    }

    #[test]
    fn a_manifest_without_examples_still_parses() {
        let parsed: ExportManifest = serde_json::from_str(&manifest_of(&[])).unwrap();
        assert_eq!(parsed, summary());
    }
}
