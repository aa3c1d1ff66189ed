//! `pods/eviction` (policy/v1 Eviction), what `kubectl drain` posts for each pod: with no
//! PodDisruptionBudgets in kubox, every eviction is allowed, and it is kube-apiserver's: the
//! pod gets the `DisruptionTarget` condition (`EvictionByEvictionAPI`), then a graceful delete
//! with the eviction's delete options.

use k8s_openapi::api::core::v1::{Pod, PodCondition};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

use super::error::ApiError;
use super::params::DeleteParams;
use super::server::{ApiServer, Caller, set_pod_condition};

impl ApiServer {
    /// Evicts a pod: marked as a disruption target, then deleted gracefully.
    pub async fn evict(
        &self,
        namespace: &str,
        name: &str,
        params: &DeleteParams,
        caller: &Caller,
    ) -> Result<(), ApiError> {
        let pod: Pod = self.get(Some(namespace), name)?;
        let terminal = matches!(
            pod.status.as_ref().and_then(|s| s.phase.as_deref()),
            Some("Succeeded" | "Failed")
        );
        if !terminal && pod.metadata.deletion_timestamp.is_none() {
            let condition = PodCondition {
                type_: "DisruptionTarget".into(),
                status: "True".into(),
                reason: Some("EvictionByEvictionAPI".into()),
                message: Some("Eviction API: evicting".into()),
                last_transition_time: Some(Time(Timestamp::now())),
                ..PodCondition::default()
            };
            self.modify_status::<Pod>(Some(namespace), name, caller, |cur| {
                let mut next = cur.clone();
                set_pod_condition(&mut next, condition.clone());
                Ok(next)
            })
            .await?;
        }
        self.delete::<Pod>(Some(namespace), name, params, caller)
            .await?;
        Ok(())
    }
}
