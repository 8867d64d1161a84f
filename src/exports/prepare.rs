//! Training lines prepared on threads of their own. A `chat_jsonl` or `preference_jsonl`
//! line is built as a JSON value, checked and its tokens counted, which is most of such an
//! export's work (the tokenizer above all); a page of rows is cut into one slice per core,
//! each slice prepared by its own long-lived thread, and the lines come back in the page's
//! order for the writer. Long-lived because the tokenizer's regex keeps its scratch space
//! per thread: threads that change every page (the blocking pool's) rebuilt it again and
//! again (a sixth of the CPU, measured).

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::mpsc;
use std::sync::Arc;

use super::check::Tokens;
use super::lines::{chat_line, preference_line, redact, target};
use super::redact::Redactor;
use crate::model::export::{ExportFormat, ExportSpec, Split};
use crate::store::ExportRow;

/// At most this many threads prepare lines.
const MAX_THREADS: usize = 4;

/// A page of rows as the source reads them, each with its side of the split.
pub type Page = Arc<Vec<(ExportRow, Split)>>;

/// One row's line, ready to write.
pub struct Prepared {
    /// Placeholders put in, per kind.
    pub redactions: BTreeMap<String, u64>,
    pub outcome: Outcome,
}

pub enum Outcome {
    /// The line's bytes, newline included, and its tokens.
    Line(Vec<u8>, u64),
    /// Why the line fails the format check.
    Failed(String),
}

struct Job {
    page: Page,
    range: Range<usize>,
    reply: mpsc::Sender<Result<Vec<Prepared>, String>>,
}

/// The threads preparing an export's training lines; they end when this is dropped.
pub struct LineWorkers {
    jobs: Vec<mpsc::Sender<Job>>,
}

impl LineWorkers {
    /// One thread per core (at most [`MAX_THREADS`]), sharing one tokenizer.
    pub fn start(spec: &ExportSpec) -> Result<LineWorkers, String> {
        let bpe = Tokens::load()?;
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, MAX_THREADS);
        let spec = Arc::new(spec.clone());
        let mut jobs = Vec::with_capacity(threads);
        for _ in 0..threads {
            let (send, receive) = mpsc::channel::<Job>();
            let spec = spec.clone();
            let tokens = Tokens::new(bpe.clone());
            std::thread::Builder::new()
                .name("export-lines".into())
                .spawn(move || work(&receive, &spec, tokens))
                .map_err(|e| format!("cannot start the export's line threads: {e}"))?;
            jobs.push(send);
        }
        Ok(LineWorkers { jobs })
    }

    /// Hands a page to the threads and returns at once; [`Pending::wait`] gives its lines.
    /// A page handed over while the threads still work on the last one waits its turn, so
    /// the writer can record one page while the next is prepared.
    pub fn submit(&self, page: Page) -> Result<Pending, String> {
        let n = page.len();
        let per = n.div_ceil(self.jobs.len()).max(1);
        let mut replies = Vec::with_capacity(self.jobs.len());
        for (i, jobs) in self.jobs.iter().enumerate() {
            let range = (i * per).min(n)..((i + 1) * per).min(n);
            if range.is_empty() {
                break;
            }
            let (reply, answer) = mpsc::channel();
            jobs.send(Job {
                page: page.clone(),
                range,
                reply,
            })
            .map_err(|_| stopped())?;
            replies.push(answer);
        }
        Ok(Pending { page, replies })
    }
}

/// A page whose lines are being prepared.
pub struct Pending {
    page: Page,
    replies: Vec<mpsc::Receiver<Result<Vec<Prepared>, String>>>,
}

impl Pending {
    /// The page and every row's line, in the page's order.
    pub fn wait(self) -> Result<(Page, Vec<Prepared>), String> {
        let mut out = Vec::with_capacity(self.page.len());
        for answer in self.replies {
            out.extend(answer.recv().map_err(|_| stopped())??);
        }
        Ok((self.page, out))
    }
}

fn stopped() -> String {
    "a thread preparing the export's lines stopped".to_string()
}

fn work(jobs: &mpsc::Receiver<Job>, spec: &ExportSpec, mut tokens: Tokens) {
    while let Ok(job) = jobs.recv() {
        let lines = job.page[job.range.clone()]
            .iter()
            .map(|(row, _)| prepare(row, spec, &mut tokens))
            .collect();
        // The writer is gone when nobody waits for the answer: nothing left to do.
        if job.reply.send(lines).is_err() {
            return;
        }
    }
}

/// One row as a training line: redacted when the spec says, built, checked and counted.
/// `Err` is a row that cannot give a line at all (the export fails); a line that fails the
/// format check is an [`Outcome::Failed`].
fn prepare(row: &ExportRow, spec: &ExportSpec, tokens: &mut Tokens) -> Result<Prepared, String> {
    let mut redactions = BTreeMap::new();
    let redacted;
    let row = if spec.redact {
        let mut redactor = Redactor::default();
        redacted = redact(row, &mut redactor)?;
        redactions = redactor.counts;
        &redacted
    } else {
        row
    };
    let answer = target(row).ok_or_else(|| format!("call {} has no answer to teach", row.id))?;
    let value = match spec.format {
        ExportFormat::ChatJsonl => chat_line(row, &spec.system, answer)?,
        ExportFormat::PreferenceJsonl => {
            preference_line(row, &spec.system, spec.preference_style, answer)?
        }
        other => return Err(format!("{} is not a training format", other.as_str())),
    };
    let outcome = match tokens.examine(&value, u64::from(spec.context_limit)) {
        Ok(n) => {
            let mut line = Vec::with_capacity(1024);
            serde_json::to_writer(&mut line, &value).map_err(|e| e.to_string())?;
            line.push(b'\n');
            Outcome::Line(line, n)
        }
        Err(reason) => Outcome::Failed(reason),
    };
    Ok(Prepared {
        redactions,
        outcome,
    })
}
