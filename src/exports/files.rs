//! Where export files live: one folder per export under the export directory, holding
//! `train.<ext>`, `validation.<ext>` and `manifest.json`. Files are written as `<name>.partial`
//! and renamed once complete and synced, so a failed, cancelled or killed job never leaves a
//! file that looks complete.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::model::export::{ExportFile, ExportFormat, Split};

const PARTIAL: &str = ".partial";

/// The export directory.
#[derive(Clone, Debug)]
pub struct ExportFiles {
    root: PathBuf,
}

impl ExportFiles {
    pub fn new(root: impl Into<PathBuf>) -> ExportFiles {
        ExportFiles { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn folder(&self, id: i64) -> PathBuf {
        self.root.join(format!("export-{id}"))
    }

    /// The file name on disk of a part (`train`, `validation` or `manifest`).
    pub fn file_name(part: &str, format: ExportFormat) -> String {
        match part {
            "manifest" => "manifest.json".to_string(),
            _ => format!("{part}.{}", format.extension()),
        }
    }

    /// The complete file of a part, when it exists.
    pub fn complete(&self, id: i64, part: &str, format: ExportFormat) -> Option<PathBuf> {
        let path = self.folder(id).join(ExportFiles::file_name(part, format));
        path.is_file().then_some(path)
    }

    /// Removes everything of an export (before a fresh start, after a failure or on delete).
    pub fn remove(&self, id: i64) -> std::io::Result<()> {
        match std::fs::remove_dir_all(self.folder(id)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Starts writing a part under its temporary name.
    pub fn create(&self, id: i64, part: &str, format: ExportFormat) -> std::io::Result<PartWriter> {
        let folder = self.folder(id);
        std::fs::create_dir_all(&folder)?;
        let name = ExportFiles::file_name(part, format);
        let temporary = folder.join(format!("{name}{PARTIAL}"));
        let file = File::create(&temporary)?;
        Ok(PartWriter {
            part: part.to_string(),
            name,
            temporary,
            out: BufWriter::with_capacity(256 * 1024, file),
            hasher: Sha256::new(),
            bytes: 0,
            lines: 0,
        })
    }
}

/// One file being written: counts its bytes and hashes them as they go.
pub struct PartWriter {
    part: String,
    name: String,
    temporary: PathBuf,
    out: BufWriter<File>,
    hasher: Sha256,
    bytes: u64,
    pub lines: u64,
}

impl PartWriter {
    pub fn write(&mut self, data: &[u8]) -> std::io::Result<()> {
        self.out.write_all(data)?;
        self.hasher.update(data);
        self.bytes += data.len() as u64;
        Ok(())
    }

    /// Writes one record (a line, or a CSV record with its own line end).
    pub fn record(&mut self, data: &[u8]) -> std::io::Result<()> {
        self.write(data)?;
        self.lines += 1;
        Ok(())
    }

    /// Flushes, syncs and renames the file to its final name.
    pub fn finish(self, download_name: String) -> std::io::Result<ExportFile> {
        let file = self.out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        let complete = self.temporary.with_file_name(&self.name);
        std::fs::rename(&self.temporary, &complete)?;
        Ok(ExportFile {
            part: self.part,
            name: download_name,
            bytes: self.bytes,
            sha256: hex(&self.hasher.finalize()),
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The name a download is offered under.
pub fn download_name(id: i64, part: &str, format: ExportFormat) -> String {
    match part {
        "manifest" => format!("redline-export-{id}-manifest.json"),
        _ => format!(
            "redline-export-{id}-{}-{part}.{}",
            format.as_str(),
            format.extension()
        ),
    }
}

/// The part a split is written to.
pub fn part_of(split: Split) -> &'static str {
    split.as_str()
}
