//! Whole, checksum-verified commits of a commitlog directory, as the raw bytes
//! `spacetimedb_commitlog::stream::reader::commits` yields them, and their append to another log
//! through `stream::StreamWriter` (which checks the checksums and the offsets' contiguity again).
use std::{io, path::Path};

use bytes::Bytes;
use futures::StreamExt as _;
use spacetimedb_commitlog::{
    repo::{Fs, Repo as _},
    segment,
    stream::{self, OnTrailingData, StreamWriter},
    Options, StoredCommit,
};
use spacetimedb_paths::{server::CommitLogDir, FromPathUnchecked as _};

pub enum Chunk {
    /// A segment header: the writer starts a new segment here, as the source did.
    Segment(Bytes),
    Commit { min: u64, n: u16, bytes: Bytes },
}

impl Chunk {
    pub fn bytes(&self) -> &Bytes {
        match self {
            Chunk::Segment(b) | Chunk::Commit { bytes: b, .. } => b,
        }
    }
}

/// What a read found: the whole commits from the start of the range, and why it stopped before the
/// end of the log, if it did (a torn or still-being-written tail, a corrupt commit, an I/O error).
pub struct Read {
    pub chunks: Vec<Chunk>,
    pub stopped: Option<String>,
}

impl Read {
    pub fn commits(&self) -> impl Iterator<Item = (u64, u16, &Bytes)> {
        self.chunks.iter().filter_map(|c| match c {
            Chunk::Commit { min, n, bytes } => Some((*min, *n, bytes)),
            Chunk::Segment(_) => None,
        })
    }

    /// One past the last transaction offset read, if any commit was.
    pub fn end(&self) -> Option<u64> {
        self.commits().last().map(|(min, n, _)| min + u64::from(n))
    }
}

/// The commitlog repository in `dir`; refused when `dir` does not exist (`Fs::new` would create it).
pub fn open_existing(dir: &Path) -> io::Result<Fs> {
    if !dir.is_dir() {
        return Err(io::Error::new(io::ErrorKind::NotFound, format!("{} is not a directory", dir.display())));
    }
    open(dir)
}

pub fn open(dir: &Path) -> io::Result<Fs> {
    Fs::new(CommitLogDir::from_path_unchecked(dir))
}

/// The segment file holding transaction `offset` (the newest segment starting at or before it).
pub fn segment_file(repo: &Fs, offset: u64) -> String {
    let segments = repo.existing_offsets().unwrap_or_default();
    let start = segments.iter().rev().find(|s| **s <= offset).or(segments.first()).copied().unwrap_or(0);
    repo.segment_path(start).display().to_string()
}

/// Reads the whole commits of `start..=to` (`start..` without `to`) from `repo`, each decoded
/// (checksum included) by `StoredCommit::decode`; stops at the first that is not whole or does not verify.
pub async fn read(repo: Fs, start: u64, to: Option<u64>) -> Read {
    let mut chunks = Vec::new();
    let mut stopped = None;
    let source = repo.clone();
    let range = (std::ops::Bound::Included(start), to.map_or(std::ops::Bound::Unbounded, std::ops::Bound::Included));
    let mut s = std::pin::pin!(stream::commits(repo, range));
    while let Some(item) = s.next().await {
        let bytes = match item {
            Ok(b) => b,
            Err(e) => {
                stopped = Some(format!("{e} ({})", where_stopped(&chunks, &source, start)));
                break;
            }
        };
        if bytes.starts_with(&segment::MAGIC) && bytes.len() == segment::Header::LEN {
            chunks.push(Chunk::Segment(bytes));
            continue;
        }
        match StoredCommit::decode(&bytes[..]) {
            Ok(Some(c)) => chunks.push(Chunk::Commit { min: c.min_tx_offset, n: c.n, bytes }),
            Ok(None) => break,
            Err(e) => {
                stopped = Some(format!("{e} ({})", where_stopped(&chunks, &source, start)));
                break;
            }
        }
    }
    Read { chunks, stopped }
}

/// "the commit at offset N, in <segment file>": where a read stopped, for the operator to find.
fn where_stopped(chunks: &[Chunk], repo: &Fs, start: u64) -> String {
    let read = Read { chunks: Vec::new(), stopped: None };
    let next = chunks
        .iter()
        .rev()
        .find_map(|c| match c {
            Chunk::Commit { min, n, .. } => Some(min + u64::from(*n)),
            Chunk::Segment(_) => None,
        })
        .or(read.end())
        .unwrap_or(start);
    format!("the commit at offset {next}, in {}", segment_file(repo, next))
}

/// A writer appending to the commitlog in `dir` (created if absent); a torn tail of its own newest
/// segment (this tool killed mid-write) is trimmed. Returns the writer and the next offset it expects.
pub fn writer(dir: &Path) -> io::Result<(StreamWriter<Fs>, u64)> {
    let (w, meta) = StreamWriter::create_and_metadata(open(dir)?, Options::default(), OnTrailingData::Trim)?;
    Ok((w, meta.map(|m| m.tx_range.end).unwrap_or(0)))
}

/// Appends `chunks` to `w` and syncs it to disk; `on_commit(min, n)` for each commit written.
pub async fn append(w: StreamWriter<Fs>, chunks: &[Chunk], mut on_commit: impl FnMut(u64, u64)) -> io::Result<StreamWriter<Fs>> {
    let mut buf = Vec::with_capacity(chunks.iter().map(|c| c.bytes().len()).sum());
    for c in chunks {
        buf.extend_from_slice(c.bytes());
    }
    let mut w = w
        .append_all(io::Cursor::new(buf), |r: std::ops::Range<u64>| on_commit(r.start, r.end - r.start))
        .await?;
    w.sync_all().await?;
    Ok(w)
}
