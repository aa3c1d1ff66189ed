//! The sample manifests (`samples/*.yaml`), built into the binary. Each teaches one thing; its
//! comment header says what to watch, and the picker shows that header.

pub struct Sample {
    pub file: &'static str,
    pub title: &'static str,
    pub text: &'static str,
}

pub const SAMPLES: &[Sample] = &[
    Sample {
        file: "plain-pod.yaml",
        title: "a plain pod",
        text: include_str!("../../samples/plain-pod.yaml"),
    },
    Sample {
        file: "requests-limits.yaml",
        title: "requests and limits",
        text: include_str!("../../samples/requests-limits.yaml"),
    },
    Sample {
        file: "node-selector.yaml",
        title: "nodeSelector",
        text: include_str!("../../samples/node-selector.yaml"),
    },
    Sample {
        file: "crash-loop.yaml",
        title: "a crash loop",
        text: include_str!("../../samples/crash-loop.yaml"),
    },
    Sample {
        file: "too-big.yaml",
        title: "a pod too big for any node",
        text: include_str!("../../samples/too-big.yaml"),
    },
];

impl Sample {
    /// The comment header as paragraphs (its lines joined; an empty `#` line separates two).
    pub fn header(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut current = String::new();
        for line in self.text.lines().take_while(|l| l.starts_with('#')) {
            let text = line.trim_start_matches('#').trim();
            if text.is_empty() {
                out.push(std::mem::take(&mut current));
            } else {
                if !current.is_empty() {
                    current.push(' ');
                }
                current.push_str(text);
            }
        }
        if !current.is_empty() {
            out.push(current);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{ApiServer, Caller};
    use crate::store::Store;
    use crate::trace::{Actor, TraceBus};

    #[test]
    fn every_sample_is_in_the_list_and_has_a_header() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/samples");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        let mut listed: Vec<String> = SAMPLES.iter().map(|s| s.file.to_string()).collect();
        listed.sort();
        assert_eq!(files, listed);
        for s in SAMPLES {
            let header = s.header();
            assert!(
                header.len() >= 2 && header[1].starts_with("What to watch:"),
                "{}: the header says what it is, then what to watch: {header:?}",
                s.file
            );
        }
    }

    #[tokio::test]
    async fn every_sample_parses_and_the_api_server_accepts_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), TraceBus::quiet()).unwrap();
        let api = ApiServer::new(store.clone(), TraceBus::quiet());
        api.bootstrap().await.unwrap();
        let caller = Caller::new(Actor::You).dry_run();
        for s in SAMPLES {
            let pod = crate::tui::editor::parse_pod(s.text)
                .unwrap_or_else(|e| panic!("{}: {e:?}", s.file));
            api.create(Some("default"), pod, &caller)
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", s.file));
        }
        store.close().await;
    }
}
