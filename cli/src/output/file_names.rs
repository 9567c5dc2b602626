//! File names for what `drain` saves: made from a failure's stream, shard
//! and sequence number, a group id or a message id, all read from messages,
//! so held to `[A-Za-z0-9._-]` and a bounded length, and never the same
//! twice in one folder.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// The longest file name `drain` writes, in bytes, extension included: well
/// under the 255 most file systems allow.
pub const MAX_FILE_NAME: usize = 200;

/// Room kept in every name for `_N`, when the name is already taken.
pub const TAKEN_ROOM: usize = 8;

/// The file names given out in one folder during one drain: never the same
/// twice, even on a file system that ignores case.
pub struct Names {
    dir: PathBuf,
    taken: HashSet<String>,
}

impl Names {
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
            taken: HashSet::new(),
        }
    }

    /// A path for each suffix (`.json`, `.part-2-of-3.json`), all on one
    /// stem made from `name`: `_2`, `_3`... is added when one is taken.
    pub fn claim<S: AsRef<str>>(&mut self, name: &str, suffixes: &[S]) -> Vec<PathBuf> {
        let longest = suffixes.iter().map(|s| s.as_ref().len()).max().unwrap_or(0);
        let base = file_stem(name, MAX_FILE_NAME.saturating_sub(longest + TAKEN_ROOM));
        let mut n = 1;
        loop {
            let stem = if n == 1 {
                base.clone()
            } else {
                format!("{base}_{n}")
            };
            let files: Vec<String> = suffixes
                .iter()
                .map(|suffix| format!("{stem}{}", suffix.as_ref()))
                .collect();
            if files
                .iter()
                .all(|f| !self.taken.contains(&f.to_ascii_lowercase()))
            {
                self.taken
                    .extend(files.iter().map(|f| f.to_ascii_lowercase()));
                return files.iter().map(|f| self.dir.join(f)).collect();
            }
            n += 1;
        }
    }
}

/// `name` as a file name stem of at most `room` bytes: itself when it is
/// short and all `[A-Za-z0-9._-]` (not starting with a dot); otherwise its
/// safe characters, cut to fit, then `-` and a hash of the whole name.
pub fn file_stem(name: &str, room: usize) -> String {
    let safe = sanitize(name);
    if safe == name && safe.len() <= room {
        return safe;
    }
    let hash = format!("{:016x}", fnv1a(name.as_bytes()));
    let keep = room.saturating_sub(hash.len() + 1);
    let mut cut = keep.min(safe.len());
    while !safe.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}-{hash}", &safe[..cut])
}

/// Letters, digits, `.`, `-` and `_` only, one `_` for anything else; a
/// leading dot too, so no name is hidden, `.` or `..`.
fn sanitize(name: &str) -> String {
    name.chars()
        .enumerate()
        .map(|(i, c)| match c {
            '.' if i == 0 => '_',
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '-' | '_' => c,
            _ => '_',
        })
        .collect()
}

/// 64-bit FNV-1a: stable across builds and platforms, enough to tell names apart.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
