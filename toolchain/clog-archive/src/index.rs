//! The archive's index: one JSON line per archived commit, `{"min":…,"n":…,"at_ms":…}` (its first
//! transaction offset, how many it holds, when it was durable in the archive). `--to-time` restores
//! pick from it; written after the commits are synced, so it never names a commit the archive lacks.
use std::{
    fs,
    io::{self, Write as _},
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};

pub const FILE: &str = "index.jsonl";

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
pub struct Entry {
    pub min: u64,
    pub n: u64,
    pub at_ms: u64,
}

impl Entry {
    pub fn end(&self) -> u64 {
        self.min + self.n
    }
}

pub fn path(archive: &Path) -> PathBuf {
    archive.join(FILE)
}

/// The entries, in order; a torn last line (killed mid-append) is dropped.
pub fn load(archive: &Path) -> io::Result<Vec<Entry>> {
    let text = match fs::read_to_string(path(archive)) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    Ok(text.lines().map_while(|l| serde_json::from_str(l).ok()).collect())
}

/// Replaces the index with `entries` (write to a temporary file, fsync, rename).
pub fn rewrite(archive: &Path, entries: &[Entry]) -> io::Result<()> {
    let tmp = archive.join(format!("{FILE}.tmp"));
    let mut f = fs::File::create(&tmp)?;
    for e in entries {
        writeln!(f, "{}", serde_json::to_string(e)?)?;
    }
    f.sync_all()?;
    fs::rename(tmp, path(archive))
}

pub fn append(archive: &Path, entries: &[Entry]) -> io::Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let mut f = fs::OpenOptions::new().create(true).append(true).open(path(archive))?;
    let mut buf = String::new();
    for e in entries {
        buf.push_str(&serde_json::to_string(e)?);
        buf.push('\n');
    }
    f.write_all(buf.as_bytes())?;
    f.sync_data()
}

/// The index made to agree with an archive whose next offset is `end`: entries past it dropped
/// (a tail the writer trimmed), commits missing at the end (killed between the sync and the index
/// append) added with `now_ms` (later than the truth: a `--to-time` restore never includes a commit
/// the archive may not yet have held at that time).
pub fn reconcile(mut entries: Vec<Entry>, archived: &[(u64, u64)], end: u64, now_ms: u64) -> Vec<Entry> {
    entries.retain(|e| e.end() <= end);
    let have = entries.last().map_or(0, Entry::end);
    entries.extend(archived.iter().filter(|(min, _)| *min >= have).map(|&(min, n)| Entry { min, n, at_ms: now_ms }));
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(min: u64, at_ms: u64) -> Entry {
        Entry { min, n: 1, at_ms }
    }

    #[test]
    fn reconcile_table() {
        // (index, commits in the archive, archive end, expected)
        let cases: Vec<(Vec<Entry>, Vec<(u64, u64)>, u64, Vec<Entry>)> = vec![
            (vec![e(0, 1), e(1, 2)], vec![(0, 1), (1, 1)], 2, vec![e(0, 1), e(1, 2)]),
            (vec![e(0, 1), e(1, 2), e(2, 3)], vec![(0, 1), (1, 1)], 2, vec![e(0, 1), e(1, 2)]),
            (vec![e(0, 1)], vec![(0, 1), (1, 1), (2, 1)], 3, vec![e(0, 1), e(1, 9), e(2, 9)]),
            (vec![], vec![(0, 1)], 1, vec![e(0, 9)]),
        ];
        for (i, (index, archived, end, want)) in cases.into_iter().enumerate() {
            assert_eq!(reconcile(index, &archived, end, 9), want, "case {i}");
        }
    }

    #[test]
    fn torn_last_line_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(path(dir.path()), "{\"min\":0,\"n\":1,\"at_ms\":5}\n{\"min\":1,\"n\":1,\"at").unwrap();
        assert_eq!(load(dir.path()).unwrap(), vec![e(0, 5)]);
    }
}
