//! The sample manifests (`samples/*.yaml`), built into the binary. Each teaches one thing; its
//! comment header says what to watch, and the picker shows that header. The list is in teaching
//! order: a pod's life, then scheduling, then what goes wrong.

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
        file: "web-readiness.yaml",
        title: "a web server, readiness probe",
        text: include_str!("../../samples/web-readiness.yaml"),
    },
    Sample {
        file: "shared-localhost.yaml",
        title: "two containers sharing localhost",
        text: include_str!("../../samples/shared-localhost.yaml"),
    },
    Sample {
        file: "init-container.yaml",
        title: "an init container",
        text: include_str!("../../samples/init-container.yaml"),
    },
    Sample {
        file: "node-selector.yaml",
        title: "nodeSelector",
        text: include_str!("../../samples/node-selector.yaml"),
    },
    Sample {
        file: "node-affinity.yaml",
        title: "node affinity",
        text: include_str!("../../samples/node-affinity.yaml"),
    },
    Sample {
        file: "taints-tolerations.yaml",
        title: "taints and tolerations",
        text: include_str!("../../samples/taints-tolerations.yaml"),
    },
    Sample {
        file: "pod-anti-affinity.yaml",
        title: "pod anti-affinity",
        text: include_str!("../../samples/pod-anti-affinity.yaml"),
    },
    Sample {
        file: "topology-spread.yaml",
        title: "topology spread",
        text: include_str!("../../samples/topology-spread.yaml"),
    },
    Sample {
        file: "too-big.yaml",
        title: "a pod too big for any node",
        text: include_str!("../../samples/too-big.yaml"),
    },
    Sample {
        file: "low-priority.yaml",
        title: "a low-priority pod on node-1",
        text: include_str!("../../samples/low-priority.yaml"),
    },
    Sample {
        file: "preemption.yaml",
        title: "a high-priority pod preempting",
        text: include_str!("../../samples/preemption.yaml"),
    },
    Sample {
        file: "crash-loop.yaml",
        title: "a crash loop",
        text: include_str!("../../samples/crash-loop.yaml"),
    },
    Sample {
        file: "liveness-failure.yaml",
        title: "a liveness probe failure",
        text: include_str!("../../samples/liveness-failure.yaml"),
    },
    Sample {
        file: "image-pull-error.yaml",
        title: "an image that cannot be pulled",
        text: include_str!("../../samples/image-pull-error.yaml"),
    },
    Sample {
        file: "active-deadline.yaml",
        title: "activeDeadlineSeconds",
        text: include_str!("../../samples/active-deadline.yaml"),
    },
    Sample {
        file: "static-pod.yaml",
        title: "a static pod (for --manifests)",
        text: include_str!("../../samples/static-pod.yaml"),
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

    #[test]
    fn simulator_annotations_name_containers_of_the_sample() {
        use crate::kubelet::runtime::sim::{EXIT_ANNOTATION_PREFIX, HEALTH_ANNOTATION_PREFIX};
        for s in SAMPLES {
            let pod = crate::tui::editor::parse_pod(s.text).unwrap();
            let spec = pod.spec.unwrap();
            let names: Vec<String> = spec
                .containers
                .iter()
                .chain(spec.init_containers.iter().flatten())
                .map(|c| c.name.clone())
                .collect();
            for key in pod.metadata.annotations.unwrap_or_default().keys() {
                let container = key
                    .strip_prefix(EXIT_ANNOTATION_PREFIX)
                    .or_else(|| key.strip_prefix(HEALTH_ANNOTATION_PREFIX));
                if let Some(c) = container {
                    assert!(
                        names.iter().any(|n| n == c),
                        "{}: {key} names no container",
                        s.file
                    );
                }
            }
        }
    }

    #[test]
    fn a_victim_comes_before_the_pod_that_preempts_it() {
        let at = |f: &str| SAMPLES.iter().position(|s| s.file == f).unwrap();
        assert_eq!(at("low-priority.yaml") + 1, at("preemption.yaml"));
        assert_eq!(at("plain-pod.yaml"), 0);
        // The picker's list is 34 columns wide, a space either side.
        for s in SAMPLES {
            assert!(s.title.chars().count() <= 32, "{}: title too long", s.file);
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
