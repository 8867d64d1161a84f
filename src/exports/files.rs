//! Where export files live: one folder per export (`export-<id>/`, holding `train.<ext>`,
//! `validation.<ext>` and `manifest.json`) under the export directory, or, for several
//! instances, under a prefix of an S3-compatible bucket. Files are always written locally as
//! `<name>.partial` and renamed once complete and synced, so a failed, cancelled or killed job
//! never leaves a file that looks complete; with a bucket, `publish` then uploads each file
//! (a multipart upload appears only once completed, the manifest last) and clears the folder.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Bytes;
use futures_util::stream::{BoxStream, StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, WriteMultipart};
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

use crate::model::export::{ExportFile, ExportFormat, Split};

const PARTIAL: &str = ".partial";
/// The parts of an export, in the order they are published (the manifest last).
const PARTS: [&str; 3] = ["train", "validation", "manifest"];
/// Size of each uploaded part, and how many are in flight at once.
const UPLOAD_CHUNK: usize = 8 * 1024 * 1024;
const UPLOADS_IN_FLIGHT: usize = 2;

/// The export directory, and the bucket when files are kept in one.
#[derive(Clone, Debug)]
pub struct ExportFiles {
    root: PathBuf,
    bucket: Option<Bucket>,
}

#[derive(Clone, Debug)]
struct Bucket {
    store: Arc<dyn ObjectStore>,
    /// The key prefix, without slashes at either end (may be empty).
    prefix: String,
    url: String,
}

/// A finished part, ready to be served.
pub enum StoredPart {
    File(PathBuf),
    Object {
        size: u64,
        body: BoxStream<'static, std::io::Result<Bytes>>,
    },
}

fn other(error: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(error.to_string())
}

impl ExportFiles {
    /// Files kept in a folder.
    pub fn new(root: impl Into<PathBuf>) -> ExportFiles {
        ExportFiles {
            root: root.into(),
            bucket: None,
        }
    }

    /// Files kept in an S3-compatible bucket, `s3://bucket/optional/prefix`, written first
    /// to `staging`. Credentials, region and endpoint come from the `AWS_*` environment
    /// variables, then from `settings` (object_store's configuration keys, such as
    /// `aws_endpoint` or `aws_allow_http`).
    pub fn in_bucket(
        url: &str,
        staging: impl Into<PathBuf>,
        settings: &[(&str, &str)],
    ) -> Result<ExportFiles, String> {
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| format!("{url}: an export store is s3://bucket/prefix"))?;
        let (name, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if name.is_empty() {
            return Err(format!("{url}: the bucket name is missing"));
        }
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(name);
        for (key, value) in settings {
            let key: AmazonS3ConfigKey = key
                .parse()
                .map_err(|e| format!("{key}: not an S3 setting ({e})"))?;
            builder = builder.with_config(key, *value);
        }
        let store = builder.build().map_err(|e| format!("{url}: {e}"))?;
        Ok(ExportFiles {
            root: staging.into(),
            bucket: Some(Bucket {
                store: Arc::new(store),
                prefix: prefix.trim_matches('/').to_string(),
                url: url.to_string(),
            }),
        })
    }

    /// The local folder: where files live, or where they are staged before the upload.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where files live, for the log.
    pub fn describe(&self) -> String {
        match &self.bucket {
            Some(bucket) => bucket.url.clone(),
            None => self.root.display().to_string(),
        }
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

    /// The complete local file of a part, when it exists.
    pub fn complete(&self, id: i64, part: &str, format: ExportFormat) -> Option<PathBuf> {
        let path = self.folder(id).join(ExportFiles::file_name(part, format));
        path.is_file().then_some(path)
    }

    /// Removes everything of an export, here and in the bucket (before a fresh start, after
    /// a failure or on delete).
    pub async fn remove(&self, id: i64) -> std::io::Result<()> {
        match tokio::fs::remove_dir_all(self.folder(id)).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        if let Some(bucket) = &self.bucket {
            let folder = bucket.folder(id);
            let keys: Vec<ObjectPath> = bucket
                .store
                .list(Some(&folder))
                .map_ok(|meta| meta.location)
                .try_collect()
                .await
                .map_err(other)?;
            for key in keys {
                match bucket.store.delete(&key).await {
                    Err(object_store::Error::NotFound { .. }) | Ok(()) => {}
                    Err(e) => return Err(other(e)),
                }
            }
        }
        Ok(())
    }

    /// Makes an export's complete files available to every instance: with a bucket, uploads
    /// them (the manifest last) and clears the local folder; with a folder, nothing to do.
    pub async fn publish(&self, id: i64, format: ExportFormat) -> std::io::Result<()> {
        let Some(bucket) = &self.bucket else {
            return Ok(());
        };
        for part in PARTS {
            if let Some(path) = self.complete(id, part, format) {
                let key = bucket.key(id, &ExportFiles::file_name(part, format));
                upload(bucket.store.as_ref(), &key, &path).await?;
            }
        }
        tokio::fs::remove_dir_all(self.folder(id)).await
    }

    /// A finished part, from the folder or the bucket; `None` when it does not exist.
    pub async fn open(
        &self,
        id: i64,
        part: &str,
        format: ExportFormat,
    ) -> std::io::Result<Option<StoredPart>> {
        let Some(bucket) = &self.bucket else {
            return Ok(self.complete(id, part, format).map(StoredPart::File));
        };
        let key = bucket.key(id, &ExportFiles::file_name(part, format));
        match bucket.store.get(&key).await {
            Ok(found) => {
                let size = found.meta.size;
                let body = found.into_stream().map_err(other).boxed();
                Ok(Some(StoredPart::Object { size, body }))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(other(e)),
        }
    }

    /// A scratch file of an export's own (removed with its folder), named `<name>.partial`.
    pub fn scratch(&self, id: i64, name: &str) -> std::io::Result<PathBuf> {
        let folder = self.folder(id);
        std::fs::create_dir_all(&folder)?;
        Ok(folder.join(format!("{name}{PARTIAL}")))
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

impl Bucket {
    fn folder(&self, id: i64) -> ObjectPath {
        if self.prefix.is_empty() {
            ObjectPath::from(format!("export-{id}"))
        } else {
            ObjectPath::from(format!("{}/export-{id}", self.prefix))
        }
    }

    fn key(&self, id: i64, name: &str) -> ObjectPath {
        self.folder(id).child(name)
    }
}

/// Uploads a local file as one multipart upload: the object appears only when every part is
/// in; on any error the upload is aborted.
async fn upload(store: &dyn ObjectStore, key: &ObjectPath, path: &Path) -> std::io::Result<()> {
    let mut file = tokio::fs::File::open(path).await?;
    let started = store.put_multipart(key).await.map_err(other)?;
    let mut writer = WriteMultipart::new_with_chunk_size(started, UPLOAD_CHUNK);
    let mut buffer = vec![0u8; 1024 * 1024];
    let sent: std::io::Result<()> = async {
        loop {
            let n = file.read(&mut buffer).await?;
            if n == 0 {
                return Ok(());
            }
            writer
                .wait_for_capacity(UPLOADS_IN_FLIGHT)
                .await
                .map_err(other)?;
            writer.write(&buffer[..n]);
        }
    }
    .await;
    match sent {
        Ok(()) => writer.finish().await.map(|_| ()).map_err(other),
        Err(error) => {
            let _ = writer.abort().await;
            Err(error)
        }
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

impl Write for PartWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        PartWriter::write(self, data)?;
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
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
