//! `info`: a commitlog's segments and the offset after its last whole commit, as JSON. The end comes
//! from `committed_meta` (the newest segment only), so it is cheap on a live log of any size.
use serde::Serialize;
use spacetimedb_commitlog::{committed_meta, error::SegmentMetadata, repo::Repo as _};
use spacetimedb_paths::{server::CommitLogDir, FromPathUnchecked as _};

use crate::{
    args::{Args, Result},
    chunks::open_existing,
};

#[derive(Serialize)]
struct Info {
    segments: Vec<u64>,
    /// One past the last whole commit's offset; 0 for an empty log.
    end: u64,
    /// A torn or still-being-written last commit, if there is one.
    torn_tail: bool,
}

pub fn run(a: Args) -> Result<()> {
    let dir = a.path("--clog")?;
    let segments = open_existing(&dir)?.existing_offsets()?;
    let (end, torn_tail) = match committed_meta(CommitLogDir::from_path_unchecked(&dir)) {
        Ok(meta) => (meta.map_or(0, |m| m.tx_range.end), false),
        Err(SegmentMetadata::InvalidCommit { sofar, .. }) => (sofar.tx_range.end, true),
        Err(SegmentMetadata::Io(e)) => return Err(e.into()),
    };
    println!("{}", serde_json::to_string(&Info { segments, end, torn_tail })?);
    Ok(())
}
