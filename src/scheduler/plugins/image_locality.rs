//! ImageLocality: prefers nodes that already hold the pod's images, weighted by image size and by
//! how widely the image is spread (an image on every node says little), between 23 MB and
//! 1000 MB per container.

use std::collections::HashMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;

use super::names::IMAGE_LOCALITY;
use crate::scheduler::framework::node_info::normalized_image;
use crate::scheduler::framework::{
    CycleState, MAX_NODE_SCORE, NodeInfo, Plugin, ScorePlugin, Status,
};

const MB: i64 = 1024 * 1024;
const MIN_THRESHOLD: i64 = 23 * MB;
const MAX_CONTAINER_THRESHOLD: i64 = 1000 * MB;

/// Spread facts the score needs: how many nodes there are and which hold each image.
pub const STATE_KEY: &str = "PreScoreImageLocality";

pub struct ImageLocality;

#[derive(Debug, Clone)]
pub struct Spread {
    pub total_nodes: usize,
    pub image_nodes: Arc<HashMap<String, usize>>,
    /// The pod's containers' (and init containers') images, normalized once per cycle rather
    /// than once per node (`None` for a container without an image).
    pub images: Vec<Option<String>>,
}

impl Spread {
    pub fn new(total_nodes: usize, image_nodes: Arc<HashMap<String, usize>>, pod: &Pod) -> Self {
        Spread {
            total_nodes,
            image_nodes,
            images: pod_images(pod).map(|i| i.map(normalized_image)).collect(),
        }
    }
}

/// Each container's image, init containers last.
fn pod_images(pod: &Pod) -> impl Iterator<Item = Option<&str>> {
    pod.spec.iter().flat_map(|spec| {
        spec.containers
            .iter()
            .chain(spec.init_containers.iter().flatten())
            .map(|c| c.image.as_deref())
    })
}

impl Plugin for ImageLocality {
    fn name(&self) -> &'static str {
        IMAGE_LOCALITY
    }
}

/// The score for a sum of spread-scaled image sizes, as kube-scheduler's calculatePriority.
pub fn calculate_priority(sum: i64, containers: usize) -> i64 {
    let max = MAX_CONTAINER_THRESHOLD * containers.max(1) as i64;
    let sum = sum.clamp(MIN_THRESHOLD, max);
    MAX_NODE_SCORE * (sum - MIN_THRESHOLD) / (max - MIN_THRESHOLD)
}

impl ScorePlugin for ImageLocality {
    fn score(&self, state: &CycleState, pod: &Pod, node: &NodeInfo) -> Result<i64, Status> {
        if pod.spec.is_none() {
            return Ok(0);
        }
        let spread = state.read::<Spread>(STATE_KEY);
        let total = spread.map_or(1, |s| s.total_nodes.max(1));
        let score = |sum: &mut i64, name: &str| {
            if let Some(size) = node.images.get(name) {
                let holders = spread
                    .and_then(|s| s.image_nodes.get(name))
                    .copied()
                    .unwrap_or(1);
                *sum += (*size as f64 * (holders as f64 / total as f64)) as i64;
            }
        };
        let mut sum = 0i64;
        let count = match spread {
            Some(s) => {
                if !node.images.is_empty() {
                    for name in s.images.iter().flatten() {
                        score(&mut sum, name);
                    }
                }
                s.images.len()
            }
            None => {
                let mut count = 0;
                for image in pod_images(pod) {
                    count += 1;
                    if let Some(image) = image {
                        score(&mut sum, &normalized_image(image));
                    }
                }
                count
            }
        };
        Ok(calculate_priority(sum, count))
    }
}
