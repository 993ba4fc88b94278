//! The command line: `--name value` pairs and bare `--flag`s, nothing more (no parser crate: one
//! less thing to build on the operator's machine).
use std::{collections::HashMap, path::PathBuf};

/// Flags that take no value.
const SWITCHES: &[&str] = &["--follow"];

pub enum Failure {
    /// The command line was wrong: nothing was done (exit 2).
    Usage(String),
    /// The operation failed (exit 1).
    Failed(String),
}

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure::Failed(e.to_string())
    }
}

impl Failure {
    /// Display is not implemented: `From<E: Display>` above would then conflict with `From<Failure>`.
    pub fn message(&self) -> &str {
        match self {
            Failure::Usage(m) | Failure::Failed(m) => m,
        }
    }
}

pub type Result<T> = std::result::Result<T, Failure>;

pub struct Args(HashMap<String, Option<String>>);

impl Args {
    pub fn parse(argv: &[String]) -> std::result::Result<Self, String> {
        let mut map = HashMap::new();
        let mut it = argv.iter();
        while let Some(a) = it.next() {
            if !a.starts_with("--") {
                return Err(format!("unexpected argument '{a}'"));
            }
            if SWITCHES.contains(&a.as_str()) {
                map.insert(a.clone(), None);
                continue;
            }
            let v = it.next().ok_or_else(|| format!("{a} needs a value"))?;
            map.insert(a.clone(), Some(v.clone()));
        }
        Ok(Args(map))
    }

    pub fn flag(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    pub fn opt(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(|v| v.as_deref())
    }

    pub fn path(&self, name: &str) -> Result<PathBuf> {
        self.opt(name).map(PathBuf::from).ok_or_else(|| Failure::Usage(format!("{name} is required")))
    }

    pub fn u64_opt(&self, name: &str) -> Result<Option<u64>> {
        match self.opt(name) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| Failure::Usage(format!("{name} must be a non-negative integer, not '{v}'"))),
        }
    }
}
