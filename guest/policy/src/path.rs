//! Path names: joining with the working directory and lexical normalisation.
//!
//! Follows path_resolution(7) and Linux's `getname` limits (`PATH_MAX` 4096 bytes including
//! the NUL, `NAME_MAX` 255 bytes a component). Paths are bytes, as on Linux. Normalisation is
//! lexical: `.` is dropped, `..` removes the previous component (and stays at `/`), repeated
//! slashes collapse. That equals Linux's walk for a tree without symbolic links; the kernel
//! must check that every component but the last is a directory (`ENOTDIR`) itself, and a
//! trailing slash ([`has_trailing_slash`]) demands a directory.

use alloc::vec::Vec;

use crate::errno::{Errno, KResult};

/// The longest path, NUL included (`PATH_MAX`).
pub const PATH_MAX: usize = 4096;

/// The longest path component (`NAME_MAX`).
pub const NAME_MAX: usize = 255;

/// Checks a path as the kernel copies it from user space: `ENOENT` when empty,
/// `ENAMETOOLONG` when it needs more than [`PATH_MAX`] bytes with its NUL or a component is
/// longer than [`NAME_MAX`].
pub fn check(path: &[u8]) -> KResult<()> {
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    if path.len() + 1 > PATH_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    if path.split(|&b| b == b'/').any(|c| c.len() > NAME_MAX) {
        return Err(Errno::ENAMETOOLONG);
    }
    Ok(())
}

/// The absolute, normalised form of `path` seen from the working directory `cwd` (itself
/// absolute and normalised, such as a previous result of this function): `/` or
/// `/a/b` without a trailing slash. Fails as [`check`] does.
pub fn normalize(cwd: &[u8], path: &[u8]) -> KResult<Vec<u8>> {
    check(path)?;
    let mut out: Vec<u8> = Vec::with_capacity(cwd.len() + path.len() + 1);
    let base: &[u8] = if path.first() == Some(&b'/') {
        b""
    } else {
        cwd
    };
    for component in base.split(|&b| b == b'/').chain(path.split(|&b| b == b'/')) {
        match component {
            b"" | b"." => {}
            b".." => {
                let cut = out.iter().rposition(|&b| b == b'/').unwrap_or(0);
                out.truncate(cut);
            }
            name => {
                out.push(b'/');
                out.extend_from_slice(name);
            }
        }
    }
    if out.is_empty() {
        out.push(b'/');
    }
    Ok(out)
}

/// Whether the path ends with `/` (after a non-slash), so that its last component must be a
/// directory.
pub fn has_trailing_slash(path: &[u8]) -> bool {
    path.len() > 1 && path.last() == Some(&b'/') && path.iter().any(|&b| b != b'/')
}

/// Splits a normalised absolute path into its parent and its last component:
/// `/a/b` gives (`/a`, `b`), `/a` gives (`/`, `a`), `/` gives (`/`, ``).
pub fn split_parent(path: &[u8]) -> (&[u8], &[u8]) {
    match path.iter().rposition(|&b| b == b'/') {
        Some(0) => (&path[..1], &path[1..]),
        Some(i) => (&path[..i], &path[i + 1..]),
        None => (b"", path),
    }
}

/// The components of a normalised absolute path (none for `/`).
pub fn components(path: &[u8]) -> impl Iterator<Item = &[u8]> {
    path.split(|&b| b == b'/').filter(|c| !c.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn norm(cwd: &str, path: &str) -> KResult<alloc::string::String> {
        normalize(cwd.as_bytes(), path.as_bytes())
            .map(|v| alloc::string::String::from_utf8(v).unwrap())
    }

    #[test]
    fn absolute_paths() {
        assert_eq!(norm("/x", "/").unwrap(), "/");
        assert_eq!(norm("/x", "/bin/hello").unwrap(), "/bin/hello");
        assert_eq!(norm("/x", "//bin///hello//").unwrap(), "/bin/hello");
        assert_eq!(norm("/x", "/./bin/./hello/.").unwrap(), "/bin/hello");
    }

    #[test]
    fn relative_paths_join_cwd() {
        assert_eq!(norm("/home/user", "file").unwrap(), "/home/user/file");
        assert_eq!(norm("/home/user", "./a/../b").unwrap(), "/home/user/b");
        assert_eq!(norm("/", "a").unwrap(), "/a");
        assert_eq!(norm("/home/user", ".").unwrap(), "/home/user");
    }

    #[test]
    fn dot_dot_stops_at_root() {
        assert_eq!(norm("/", "..").unwrap(), "/");
        assert_eq!(norm("/a", "../../..").unwrap(), "/");
        assert_eq!(norm("/a/b", "../c").unwrap(), "/a/c");
        assert_eq!(norm("/", "/../etc/../bin/..").unwrap(), "/");
    }

    #[test]
    fn limits() {
        assert_eq!(norm("/", ""), Err(Errno::ENOENT));
        let long = vec![b'a'; 4095];
        let mut p = vec![b'/'];
        p.extend(vec![b'a'; 200]);
        assert!(normalize(b"/", &p).is_ok());
        // 4095 bytes plus the NUL fit; 4096 do not.
        let mut fits = Vec::new();
        while fits.len() + 101 <= 4095 {
            fits.push(b'/');
            fits.extend(vec![b'b'; 100]);
        }
        fits.resize(4095, b'c');
        assert!(check(&fits).is_ok() || check(&fits) == Err(Errno::ENAMETOOLONG));
        let mut too_long = fits.clone();
        too_long.push(b'c');
        assert_eq!(check(&too_long), Err(Errno::ENAMETOOLONG));
        assert_eq!(
            check(&long),
            Err(Errno::ENAMETOOLONG),
            "a 4095-byte component"
        );
        let name_max = vec![b'n'; 255];
        assert!(check(&name_max).is_ok());
        let over = vec![b'n'; 256];
        assert_eq!(check(&over), Err(Errno::ENAMETOOLONG));
    }

    #[test]
    fn exact_path_max_boundary() {
        // Components of 100 bytes separated by slashes, total exactly 4095 bytes.
        let mut p = Vec::new();
        while p.len() < 4095 {
            p.push(b'/');
            let room = (4095 - p.len()).min(100);
            p.extend(vec![b'x'; room]);
        }
        assert_eq!(p.len(), 4095);
        assert!(check(&p).is_ok());
        p.push(b'y');
        assert_eq!(check(&p), Err(Errno::ENAMETOOLONG));
    }

    #[test]
    fn helpers() {
        assert!(has_trailing_slash(b"dir/"));
        assert!(!has_trailing_slash(b"/"));
        assert!(!has_trailing_slash(b"dir"));
        assert_eq!(split_parent(b"/a/b"), (&b"/a"[..], &b"b"[..]));
        assert_eq!(split_parent(b"/a"), (&b"/"[..], &b"a"[..]));
        assert_eq!(split_parent(b"/"), (&b"/"[..], &b""[..]));
        assert_eq!(
            components(b"/a/b").collect::<Vec<_>>(),
            vec![&b"a"[..], &b"b"[..]]
        );
        assert_eq!(components(b"/").count(), 0);
    }
}
