//! The archiver, cut and verify against logs written by the crate's own `Commitlog` (one
//! transaction per commit, as the 1.2 server writes them; small segments so several are sealed).
use std::{fs, num::NonZeroU16, path::Path};

use spacetimedb_commitlog::{repo::Repo as _, Commitlog, Options};
use spacetimedb_paths::{server::CommitLogDir, FromPathUnchecked as _};

use crate::{archive::Archiver, args::Args, chunks, index};

fn log(dir: &Path) -> Commitlog<[u8; 64]> {
    fs::create_dir_all(dir).unwrap();
    let opts = Options { max_records_in_commit: NonZeroU16::new(1).unwrap(), max_segment_size: 2048, ..Options::default() };
    Commitlog::open(CommitLogDir::from_path_unchecked(dir), opts).unwrap()
}

fn write(l: &Commitlog<[u8; 64]>, from: u8, count: u8) {
    for i in from..from + count {
        l.append_maybe_flush([i; 64]).unwrap();
        l.flush_and_sync().unwrap();
    }
}

async fn offsets(dir: &Path) -> Vec<u64> {
    let repo = chunks::open_existing(dir).unwrap();
    let r = chunks::read(repo, 0, None).await;
    assert!(r.stopped.is_none(), "{:?}", r.stopped);
    r.commits().map(|(min, _, _)| min).collect()
}

fn args(v: &[&str]) -> Args {
    Args::parse(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn follows_restarts_resumes_without_gap_or_duplicate_and_cuts_exactly() {
    let t = tempfile::tempdir().unwrap();
    let (live, arch) = (t.path().join("live"), t.path().join("archive"));
    let l = log(&live);
    write(&l, 0, 30);
    let mut a = Archiver::new(live.clone(), arch.clone());
    a.pass().await.unwrap_or_else(|e| panic!("{}", e.message()));
    // A server restart: the log reopened (the crate seals the old segment and starts a new one).
    drop(l);
    let l = log(&live);
    write(&l, 30, 10);
    a.pass().await.unwrap_or_else(|e| panic!("{}", e.message()));
    // The archiver killed and started again, with more written meanwhile.
    drop(a);
    write(&l, 40, 5);
    let mut a = Archiver::new(live.clone(), arch.clone());
    a.pass().await.unwrap_or_else(|e| panic!("{}", e.message()));
    let want: Vec<u64> = (0..45).collect();
    assert_eq!(offsets(&arch).await, want);
    assert!(chunks::open(&arch).unwrap().existing_offsets().unwrap().len() > 2, "several segments");
    let idx: Vec<u64> = index::load(&arch).unwrap().iter().map(|e| e.min).collect();
    assert_eq!(idx, want, "one index line per commit, in order");

    let out = t.path().join("cut");
    crate::cut::run(args(&["--archive", arch.to_str().unwrap(), "--to-offset", "27", "--out", out.to_str().unwrap()])).await.unwrap_or_else(|e| panic!("{}", e.message()));
    assert_eq!(offsets(&out).await, (0..=27).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_torn_live_tail_is_not_archived() {
    let t = tempfile::tempdir().unwrap();
    let (live, arch) = (t.path().join("live"), t.path().join("archive"));
    let l = log(&live);
    write(&l, 0, 3);
    drop(l);
    let seg = chunks::segment_file(&chunks::open(&live).unwrap(), 2);
    let mut f = fs::OpenOptions::new().append(true).open(&seg).unwrap();
    std::io::Write::write_all(&mut f, &[3, 0, 0, 0, 0, 0, 0, 0, 0, 0]).unwrap();
    Archiver::new(live, arch.clone()).pass().await.unwrap_or_else(|e| panic!("{}", e.message()));
    assert_eq!(offsets(&arch).await, vec![0, 1, 2]);
}

#[tokio::test]
async fn a_corrupt_byte_is_refused_naming_the_file_and_a_cut_before_it_works() {
    let t = tempfile::tempdir().unwrap();
    let (live, arch) = (t.path().join("live"), t.path().join("archive"));
    write(&log(&live), 0, 40);
    Archiver::new(live, arch.clone()).pass().await.unwrap_or_else(|e| panic!("{}", e.message()));
    let repo = chunks::open(&arch).unwrap();
    let segs = repo.existing_offsets().unwrap();
    let last = segs.last().copied().unwrap();
    let file = repo.segment_path(last).display().to_string();
    let mut bytes = fs::read(&file).unwrap();
    let at = bytes.len() - 30;
    bytes[at] ^= 0x40;
    fs::write(&file, bytes).unwrap();
    let err = crate::verify::run(args(&["--archive", arch.to_str().unwrap()])).await.err().expect("refused");
    assert!(err.message().contains(&file), "{}", err.message());
    let out = t.path().join("cut");
    let before = (last - 1).to_string();
    crate::cut::run(args(&["--archive", arch.to_str().unwrap(), "--to-offset", &before, "--out", out.to_str().unwrap()])).await.unwrap_or_else(|e| panic!("{}", e.message()));
    assert_eq!(offsets(&out).await, (0..last).collect::<Vec<_>>());
    let out2 = t.path().join("cut2");
    let err = crate::cut::run(args(&["--archive", arch.to_str().unwrap(), "--to-offset", "39", "--out", out2.to_str().unwrap()])).await.err().expect("refused");
    assert!(err.message().contains(&file), "{}", err.message());
}

#[tokio::test]
async fn a_base_the_archive_does_not_continue_is_refused_naming_the_gap() {
    let t = tempfile::tempdir().unwrap();
    let (base, live, arch) = (t.path().join("base"), t.path().join("live"), t.path().join("archive"));
    write(&log(&base), 0, 5);
    write(&log(&live), 0, 20);
    // An archive that starts late: only offsets 10.. (copied with a range).
    let r = chunks::read(chunks::open(&live).unwrap(), 10, None).await;
    let (w, _) = chunks::writer(&arch).unwrap();
    let mut chunks_from_10 = r.chunks;
    if !matches!(chunks_from_10.first(), Some(chunks::Chunk::Segment(_))) {
        // Starting mid-segment: give the archive a segment of its own.
        let hdr = chunks::read(chunks::open(&live).unwrap(), 0, Some(0)).await.chunks.remove(0);
        chunks_from_10.insert(0, hdr);
    }
    let _ = chunks::append(w, &chunks_from_10, |_, _| {}).await;
    let out = t.path().join("cut");
    let err = crate::cut::run(args(&["--archive", arch.to_str().unwrap(), "--base", base.to_str().unwrap(), "--to-offset", "15", "--out", out.to_str().unwrap()]))
        .await
        .err()
        .expect("refused");
    assert!(err.message().contains("5..=15"), "{}", err.message());
}
