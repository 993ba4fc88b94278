//! `verify`: every commit of the archive (up to `--to-offset`) read back and checksum-verified by
//! the crate, offsets contiguous, and the index naming nothing the archive lacks. A failure names
//! the segment file.
use serde::Serialize;
use spacetimedb_commitlog::repo::Repo as _;

use crate::{
    args::{Args, Failure, Result},
    chunks::{self, open_existing},
    index,
};

#[derive(Serialize)]
struct Verified {
    archive: String,
    segments: usize,
    commits: usize,
    /// One past the last verified offset.
    end: u64,
}

pub async fn run(a: Args) -> Result<()> {
    let archive = a.path("--archive")?;
    let to = a.u64_opt("--to-offset")?;
    let repo = open_existing(&archive)?;
    let segments = repo.existing_offsets()?;
    let first = segments.first().copied().unwrap_or(0);
    let r = chunks::read(repo.clone(), first, to).await;
    let bad = |why: String| Failure::Failed(format!("archive {} does not verify: {why}", archive.display()));
    if let Some(why) = &r.stopped {
        return Err(bad(why.clone()));
    }
    let mut expected = first;
    let mut commits = 0;
    for (min, n, _) in r.commits() {
        if min != expected {
            return Err(bad(format!("offset {expected} is missing ({min} follows it), in {}", chunks::segment_file(&repo, min))));
        }
        expected = min + u64::from(n);
        commits += 1;
    }
    // A segment the reader never reached (an unreadable header, a zeroed commit) leaves a gap.
    if let Some(s) = segments.iter().find(|s| **s >= expected && to.is_none_or(|t| **s <= t)) {
        return Err(bad(format!("the commits from offset {expected} are unreadable, in {}", chunks::segment_file(&repo, expected.min(*s)))));
    }
    if let Some(t) = to.filter(|t| expected <= *t) {
        return Err(bad(format!("it ends at offset {}, before {t}", expected as i64 - 1)));
    }
    let indexed = index::load(&archive)?.last().map_or(0, index::Entry::end);
    if to.is_none() && indexed > expected {
        return Err(bad(format!("{} names offsets up to {} but the archive ends at {}", index::path(&archive).display(), indexed - 1, expected as i64 - 1)));
    }
    println!("{}", serde_json::to_string(&Verified { archive: archive.display().to_string(), segments: segments.len(), commits, end: expected })?);
    Ok(())
}
