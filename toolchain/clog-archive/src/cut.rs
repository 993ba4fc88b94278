//! `cut`: a new commitlog holding exactly the transactions ≤ N: a base log's whole commits (the
//! clog of a physical backup) and the archive's from there on. Refused, naming the offsets, when the
//! archive does not continue the base without a gap, holds another history, or ends before N.
use std::path::PathBuf;

use serde::Serialize;
use spacetimedb_commitlog::repo::Repo as _;

use crate::{
    archive::make_private,
    args::{Args, Failure, Result},
    chunks::{self, open_existing, Chunk},
};

#[derive(Serialize)]
struct Cut {
    out: String,
    to_offset: u64,
    /// Offsets taken from the base log: 0..base_end.
    base_end: u64,
    archived_commits: usize,
    segments: Vec<u64>,
}

pub async fn run(a: Args) -> Result<()> {
    let archive = a.path("--archive")?;
    let out = a.path("--out")?;
    let n = a.u64_opt("--to-offset")?.ok_or_else(|| Failure::Usage("--to-offset is required".into()))?;
    let base = a.opt("--base").map(PathBuf::from);
    if out.exists() && std::fs::read_dir(&out)?.next().is_some() {
        return Err(Failure::Failed(format!("{} is not empty: cut writes a new commitlog", out.display())));
    }
    make_private(&out)?;
    let (mut w, _) = chunks::writer(&out)?;
    let mut base_last = None;
    if let Some(b) = &base {
        // A base copied after an abrupt stop may end in a torn commit: the server drops it on start,
        // and so does this read (only whole, verified commits).
        let r = chunks::read(open_existing(b)?, 0, None).await;
        if let Some(end) = r.end().filter(|e| *e > n + 1) {
            return Err(Failure::Failed(format!("the base log {} goes up to offset {}, past {n}: use an older base", b.display(), end - 1)));
        }
        base_last = r.commits().last().map(|(min, _, bytes)| (min, bytes.clone()));
        w = chunks::append(w, &r.chunks, |_, _| {}).await?;
    }
    let base_end = base_last.as_ref().map_or(0, |(min, _)| min + 1);
    let mut archived_commits = 0;
    if base_end <= n {
        let repo = open_existing(&archive)?;
        let from = base_last.as_ref().map_or(0, |(min, _)| *min);
        let r = chunks::read(repo.clone(), from, Some(n)).await;
        let first = r.commits().next().map(|(min, _, _)| min);
        if first.is_none_or(|f| f > base_end) {
            let starts = first.map_or_else(|| "holds nothing there".to_string(), |f| format!("starts at offset {f}"));
            return Err(Failure::Failed(format!(
                "no continuous archive covers offsets {base_end}..={n}: the base ends at offset {}, the archive {} {starts}",
                base_end as i64 - 1,
                archive.display()
            )));
        }
        if let (Some((min, ours)), Some((amin, _, theirs))) = (&base_last, r.commits().next()) {
            if *min == amin && ours != theirs {
                return Err(Failure::Failed(format!("the archive {} differs from the base at offset {min}: another history", archive.display())));
            }
        }
        let mut keep: Vec<&Chunk> = Vec::new();
        let mut header = None;
        for c in &r.chunks {
            match c {
                Chunk::Segment(_) => header = Some(c),
                Chunk::Commit { min, .. } if *min < base_end => header = None,
                Chunk::Commit { min, n: k, .. } => {
                    if min + u64::from(*k) > n + 1 {
                        return Err(Failure::Failed(format!("offset {n} falls inside the commit of offsets {min}..{}", min + u64::from(*k) - 1)));
                    }
                    keep.extend(header.take());
                    keep.push(c);
                    archived_commits += 1;
                }
            }
        }
        let end = r.end().unwrap_or(base_end);
        if end <= n {
            return Err(Failure::Failed(match &r.stopped {
                Some(why) => format!("the archive {} cannot be read past offset {}: {why}", archive.display(), end as i64 - 1),
                None => format!("no continuous archive covers offsets {end}..={n}: the archive {} ends at offset {}", archive.display(), end as i64 - 1),
            }));
        }
        let owned: Vec<Chunk> = keep
            .into_iter()
            .map(|c| match c {
                Chunk::Segment(b) => Chunk::Segment(b.clone()),
                Chunk::Commit { min, n, bytes } => Chunk::Commit { min: *min, n: *n, bytes: bytes.clone() },
            })
            .collect();
        w = chunks::append(w, &owned, |_, _| {}).await?;
    }
    drop(w);
    let segments = chunks::open(&out)?.existing_offsets()?;
    println!("{}", serde_json::to_string(&Cut { out: out.display().to_string(), to_offset: n, base_end, archived_commits, segments })?);
    Ok(())
}
