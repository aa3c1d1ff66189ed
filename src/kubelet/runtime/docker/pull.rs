//! Folds the daemon's pull stream (one JSON message per layer event) into one
//! [`PullProgress`]: layers seen and finished, bytes downloaded out of bytes known.

use std::collections::BTreeMap;

use crate::kubelet::runtime::PullProgress;

#[derive(Debug, Default, Clone, Copy)]
struct Layer {
    current: u64,
    total: u64,
    done: bool,
}

/// The state of one pull, fed message by message.
#[derive(Debug)]
pub struct PullTracker {
    image: String,
    layers: BTreeMap<String, Layer>,
}

impl PullTracker {
    pub fn new(image: &str) -> Self {
        PullTracker {
            image: image.to_string(),
            layers: BTreeMap::new(),
        }
    }

    /// Takes one message (`id`, `status`, `progressDetail`); true when the progress changed.
    pub fn update(
        &mut self,
        id: Option<&str>,
        status: Option<&str>,
        current: Option<i64>,
        total: Option<i64>,
    ) -> bool {
        let (Some(id), Some(status)) = (id, status) else {
            return false;
        };
        // Messages about the whole image (`latest: Pulling from library/busybox`, `Digest: …`,
        // `Status: …`) carry the tag or nothing as id; layer messages carry a layer id.
        let layer_status = matches!(
            status,
            "Pulling fs layer"
                | "Waiting"
                | "Downloading"
                | "Verifying Checksum"
                | "Download complete"
                | "Extracting"
                | "Pull complete"
                | "Already exists"
                | "Retrying"
        ) || status.starts_with("Retrying");
        if !layer_status {
            return false;
        }
        let before = self.layers.get(id).copied();
        let layer = self.layers.entry(id.to_string()).or_default();
        match status {
            "Downloading" => {
                layer.current = current.unwrap_or(0).max(0) as u64;
                if let Some(total) = total.filter(|t| *t > 0) {
                    layer.total = total as u64;
                }
            }
            "Download complete" | "Verifying Checksum" | "Extracting" => {
                layer.current = layer.total;
            }
            "Pull complete" | "Already exists" => {
                layer.current = layer.total;
                layer.done = true;
            }
            _ => {}
        }
        let after = *layer;
        before.is_none_or(|b| {
            (b.current, b.total, b.done) != (after.current, after.total, after.done)
        })
    }

    pub fn progress(&self) -> PullProgress {
        PullProgress {
            image: self.image.clone(),
            layers_done: self.layers.values().filter(|l| l.done).count() as u32,
            layers_total: self.layers.len() as u32,
            bytes_done: self.layers.values().map(|l| l.current).sum(),
            bytes_total: self.layers.values().map(|l| l.total).sum(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_a_pull_stream() {
        let mut t = PullTracker::new("busybox:1.36");
        assert!(!t.update(
            Some("1.36"),
            Some("Pulling from library/busybox"),
            None,
            None
        ));
        assert!(t.update(Some("aaa"), Some("Pulling fs layer"), None, None));
        assert!(t.update(Some("bbb"), Some("Already exists"), None, None));
        assert!(t.update(Some("aaa"), Some("Downloading"), Some(100), Some(1000)));
        assert_eq!(
            t.progress(),
            PullProgress {
                image: "busybox:1.36".into(),
                layers_done: 1,
                layers_total: 2,
                bytes_done: 100,
                bytes_total: 1000,
            }
        );
        assert!(!t.update(Some("aaa"), Some("Downloading"), Some(100), Some(1000)));
        assert!(t.update(Some("aaa"), Some("Download complete"), None, None));
        assert!(!t.update(Some("aaa"), Some("Extracting"), Some(5), Some(1000)));
        assert!(t.update(Some("aaa"), Some("Pull complete"), None, None));
        assert!(!t.update(None, Some("Digest: sha256:abc"), None, None));
        assert!(!t.update(
            None,
            Some("Status: Downloaded newer image for busybox:1.36"),
            None,
            None
        ));
        let p = t.progress();
        assert_eq!((p.layers_done, p.layers_total), (2, 2));
        assert_eq!((p.bytes_done, p.bytes_total), (1000, 1000));
    }
}
