//! `archive`: copies every whole, verified commit of a live commitlog into an archive commitlog
//! (same format, same segment boundaries, readable by the same crate) and indexes it. Restartable:
//! the archive's own end is where it resumes (a torn archive tail is trimmed first), so a kill
//! leaves neither a gap nor a duplicate. `--follow` repeats every `--interval-ms` until SIGINT or
//! SIGTERM (then one last pass).
use std::{
    collections::BTreeMap,
    fs,
    os::unix::fs::PermissionsExt as _,
    path::{Path, PathBuf},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use serde::Serialize;
use spacetimedb_commitlog::{repo::Fs, stream::StreamWriter};
use tokio::signal::unix::{signal, SignalKind};

use crate::{
    args::{Args, Failure, Result},
    chunks::{self, open_existing},
    index::{self, Entry},
};

/// Commits copied per pass at most (a first archive of a large log is copied in batches, not
/// held in memory at once); a full batch is followed by the next without waiting.
const BATCH: u64 = 20_000;
/// The archiver's own report, rewritten every pass: `status` reads the lag from it.
pub const STATUS_FILE: &str = "archiver.json";

pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

pub fn make_private(dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
}

pub async fn run(a: Args) -> Result<()> {
    let to = a.path("--to")?;
    let follow = a.flag("--follow");
    let interval = Duration::from_millis(a.u64_opt("--interval-ms")?.unwrap_or(200).max(10));
    let sources = match (a.opt("--clog"), a.opt("--replicas")) {
        (Some(c), None) => Sources::One(PathBuf::from(c)),
        (None, Some(r)) => Sources::Replicas(PathBuf::from(r)),
        _ => return Err(Failure::Usage("exactly one of --clog and --replicas is required".into())),
    };
    make_private(&to)?;
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut archivers: BTreeMap<PathBuf, Archiver> = BTreeMap::new();
    loop {
        for (live, dest) in sources.pairs(&to)? {
            archivers.entry(dest.clone()).or_insert_with(|| Archiver::new(live, dest));
        }
        let mut more = false;
        for arch in archivers.values_mut() {
            match arch.pass().await {
                Ok(full) => more |= full,
                Err(e) if follow => eprintln!("clog-archive: {}: {} (retrying)", arch.dest.display(), e.message()),
                Err(e) => return Err(Failure::Failed(format!("{}: {}", arch.dest.display(), e.message()))),
            }
        }
        if more {
            continue;
        }
        if !follow {
            return Ok(());
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = term.recv() => return last_pass(&mut archivers).await,
            _ = int.recv() => return last_pass(&mut archivers).await,
        }
    }
}

/// On a stop signal: what the server wrote before it stopped goes in too.
async fn last_pass(archivers: &mut BTreeMap<PathBuf, Archiver>) -> Result<()> {
    for arch in archivers.values_mut() {
        while arch.pass().await? {}
    }
    Ok(())
}

enum Sources {
    One(PathBuf),
    /// A server's `data/replicas`: each `<id>/clog` into `<to>/<id>`.
    Replicas(PathBuf),
}

impl Sources {
    fn pairs(&self, to: &Path) -> std::io::Result<Vec<(PathBuf, PathBuf)>> {
        match self {
            Sources::One(clog) => Ok(vec![(clog.clone(), to.to_path_buf())]),
            Sources::Replicas(dir) if !dir.is_dir() => Ok(Vec::new()),
            Sources::Replicas(dir) => {
                let mut out = Vec::new();
                for e in fs::read_dir(dir)? {
                    let e = e?;
                    let clog = e.path().join("clog");
                    if clog.is_dir() {
                        out.push((clog, to.join(e.file_name())));
                    }
                }
                Ok(out)
            }
        }
    }
}

#[derive(Serialize)]
struct Status {
    live: String,
    pass_at_ms: u64,
    /// The last pass that found nothing more to copy: every commit written before it is archived.
    caught_up_at_ms: Option<u64>,
    /// The next offset the archive expects (one past its last commit).
    archived_end: u64,
    /// Why the last pass stopped before the live log's end (a commit still being written, usually).
    live_tail: Option<String>,
}

pub(crate) struct Archiver {
    live: PathBuf,
    dest: PathBuf,
    writer: Option<(StreamWriter<Fs>, u64)>,
    caught_up_at_ms: Option<u64>,
}

impl Archiver {
    pub(crate) fn new(live: PathBuf, dest: PathBuf) -> Self {
        Archiver { live, dest, writer: None, caught_up_at_ms: None }
    }

    /// One pass; true when it copied a full batch (more may be waiting).
    pub(crate) async fn pass(&mut self) -> Result<bool> {
        if !self.live.is_dir() {
            return Ok(false);
        }
        let started = now_ms();
        let (w, next) = match self.writer.take() {
            Some(w) => w,
            None => self.open().await?,
        };
        let read = chunks::read(open_existing(&self.live)?, next, Some(next + BATCH - 1)).await;
        if let Some((min, _, _)) = read.commits().next() {
            if min != next {
                return Err(Failure::Failed(format!("gap: the archive ends before offset {next} but the live log {} continues at {min}", self.live.display())));
            }
        }
        let mut written = Vec::new();
        // On an error the writer is gone (append_all consumes it): the next pass re-opens the
        // archive, which trims whatever part of a commit reached it.
        let w = chunks::append(w, &read.chunks, |min, n| written.push((min, n))).await?;
        let at_ms = now_ms();
        index::append(&self.dest, &written.iter().map(|&(min, n)| Entry { min, n, at_ms }).collect::<Vec<_>>())?;
        let end = read.end().unwrap_or(next);
        self.writer = Some((w, end));
        let full = written.len() as u64 >= BATCH;
        if read.stopped.is_none() && !full {
            self.caught_up_at_ms = Some(started);
        }
        self.report(at_ms, end, read.stopped)?;
        Ok(full)
    }

    /// Opens the archive's writer: trims a torn tail, refuses a live log with another history
    /// than the archive's, brings the index in line with the archive.
    async fn open(&mut self) -> Result<(StreamWriter<Fs>, u64)> {
        make_private(&self.dest)?;
        let (w, end) = chunks::writer(&self.dest)?;
        if end > 0 {
            let last = end - 1;
            let ours = chunks::read(chunks::open(&self.dest)?, last, Some(last)).await;
            let theirs = chunks::read(open_existing(&self.live)?, last, Some(last)).await;
            match (ours.commits().last(), theirs.commits().last()) {
                (Some((_, _, a)), Some((_, _, b))) if a != b => {
                    return Err(Failure::Failed(format!(
                        "the live log {} differs from the archive at offset {last}: another history (a restored or recreated database); move the archive aside",
                        self.live.display()
                    )))
                }
                (Some(_), None) if theirs.stopped.is_none() => {
                    return Err(Failure::Failed(format!(
                        "the live log {} ends before offset {last}, which the archive holds: another history (a restored or recreated database); move the archive aside",
                        self.live.display()
                    )))
                }
                _ => {}
            }
        }
        let entries = index::load(&self.dest)?;
        let have = entries.last().map_or(0, Entry::end).min(end);
        let tail = chunks::read(chunks::open(&self.dest)?, have, None).await;
        let archived: Vec<(u64, u64)> = tail.commits().map(|(min, n, _)| (min, u64::from(n))).collect();
        let fixed = index::reconcile(entries.clone(), &archived, end, now_ms());
        if fixed != entries {
            index::rewrite(&self.dest, &fixed)?;
        }
        Ok((w, end))
    }

    fn report(&self, pass_at_ms: u64, archived_end: u64, live_tail: Option<String>) -> Result<()> {
        let s = Status { live: self.live.display().to_string(), pass_at_ms, caught_up_at_ms: self.caught_up_at_ms, archived_end, live_tail };
        let tmp = self.dest.join(format!("{STATUS_FILE}.tmp"));
        fs::write(&tmp, serde_json::to_vec(&s)?)?;
        fs::rename(tmp, self.dest.join(STATUS_FILE))?;
        Ok(())
    }
}
