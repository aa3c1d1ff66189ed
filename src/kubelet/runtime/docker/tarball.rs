//! A minimal in-memory tar writer (POSIX ustar): just enough to hand a root filesystem of a
//! few files, directories and symlinks to the daemon's image import, without a tar crate.

/// Builds a tar archive in memory. Entries are owned by root; paths are relative to the root
/// of the archive (`bin/sh`) and at most 100 bytes.
#[derive(Debug, Default)]
pub struct Tarball {
    bytes: Vec<u8>,
}

const BLOCK: usize = 512;

impl Tarball {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn dir(&mut self, path: &str, mode: u32) -> &mut Self {
        let path = format!("{}/", path.trim_end_matches('/'));
        self.entry(&path, mode, b'5', "", &[])
    }

    pub fn file(&mut self, path: &str, mode: u32, data: &[u8]) -> &mut Self {
        self.entry(path, mode, b'0', "", data)
    }

    pub fn symlink(&mut self, path: &str, target: &str) -> &mut Self {
        self.entry(path, 0o777, b'2', target, &[])
    }

    /// The archive, closed by its two zero blocks.
    pub fn finish(mut self) -> Vec<u8> {
        self.bytes.extend_from_slice(&[0; 2 * BLOCK]);
        self.bytes
    }

    fn entry(&mut self, path: &str, mode: u32, kind: u8, link: &str, data: &[u8]) -> &mut Self {
        assert!(path.len() <= 100, "tar path too long: {path}");
        assert!(link.len() <= 100, "tar link target too long: {link}");
        let mut header = [0u8; BLOCK];
        header[..path.len()].copy_from_slice(path.as_bytes());
        octal(&mut header[100..108], u64::from(mode)); // mode
        octal(&mut header[108..116], 0); // uid
        octal(&mut header[116..124], 0); // gid
        octal(&mut header[124..136], data.len() as u64); // size
        octal(&mut header[136..148], 0); // mtime
        header[148..156].fill(b' '); // checksum, counted as spaces
        header[156] = kind;
        header[157..157 + link.len()].copy_from_slice(link.as_bytes());
        header[257..263].copy_from_slice(b"ustar\0");
        header[263..265].copy_from_slice(b"00");
        header[265..269].copy_from_slice(b"root");
        header[297..301].copy_from_slice(b"root");
        let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
        let checksum = format!("{sum:06o}\0 ");
        header[148..156].copy_from_slice(checksum.as_bytes());
        self.bytes.extend_from_slice(&header);
        self.bytes.extend_from_slice(data);
        let pad = (BLOCK - data.len() % BLOCK) % BLOCK;
        self.bytes.extend(std::iter::repeat_n(0, pad));
        self
    }
}

/// A NUL-terminated, zero-padded octal field.
fn octal(field: &mut [u8], value: u64) {
    let digits = format!("{value:0width$o}", width = field.len() - 1);
    assert!(digits.len() < field.len(), "tar field overflow: {value}");
    field[..digits.len()].copy_from_slice(digits.as_bytes());
    field[digits.len()] = 0;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_ustar() {
        let mut tar = Tarball::new();
        tar.dir("bin", 0o755)
            .file("bin/hello", 0o755, b"hi\n")
            .symlink("bin/hey", "hello");
        let bytes = tar.finish();
        // Three headers, one data block, two closing blocks.
        assert_eq!(bytes.len(), 6 * BLOCK);
        assert_eq!(&bytes[..4], b"bin/");
        assert_eq!(bytes[156], b'5');
        let file = &bytes[BLOCK..2 * BLOCK];
        assert_eq!(&file[124..136], b"00000000003\0");
        assert_eq!(&file[257..263], b"ustar\0");
        assert_eq!(&bytes[2 * BLOCK..2 * BLOCK + 3], b"hi\n");
        let link = &bytes[3 * BLOCK..4 * BLOCK];
        assert_eq!((link[156], &link[157..162]), (b'2', &b"hello"[..]));
        // The checksum is the sum of the header's bytes with the field read as spaces.
        let mut copy = file.to_vec();
        copy[148..156].fill(b' ');
        let sum: u32 = copy.iter().map(|&b| u32::from(b)).sum();
        assert_eq!(&file[148..156], format!("{sum:06o}\0 ").as_bytes());
    }
}
