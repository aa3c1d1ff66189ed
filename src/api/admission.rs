//! Admission that needs the cluster's other objects: kube-apiserver's `Priority` plugin
//! (plugin/pkg/admission/priority, v1.32). On pod create it resolves `priorityClassName` to
//! `spec.priority` and `spec.preemptionPolicy` from the stored PriorityClasses (or the global
//! default, or priority 0); on PriorityClass create/update it keeps the global default unique.
//! Everything here is a pure function of the request object and the classes; the API server
//! lists the classes and turns a refusal into a 403 Forbidden.

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::scheduling::v1::PriorityClass;

/// `scheduling.DefaultPriorityWhenNoDefaultClassExists`.
pub const DEFAULT_PRIORITY: i32 = 0;

/// The global default class: the one marked `globalDefault` with the lowest value, as
/// `getDefaultPriorityClass` picks when (against the rules) several exist.
fn default_class(classes: &[PriorityClass]) -> Option<&PriorityClass> {
    classes
        .iter()
        .filter(|c| c.global_default == Some(true))
        .min_by_key(|c| c.value)
}

/// The Priority plugin's `admitPod` for a create. `Err` is the Forbidden reason.
pub fn admit_pod(pod: &mut Pod, classes: &[PriorityClass]) -> Result<(), String> {
    let spec = pod.spec.get_or_insert_default();
    let class_name = spec.priority_class_name.clone().unwrap_or_default();
    let (priority, policy) = if class_name.is_empty() {
        match default_class(classes) {
            Some(class) => {
                spec.priority_class_name = class.metadata.name.clone();
                (class.value, class.preemption_policy.clone())
            }
            None => (DEFAULT_PRIORITY, Some("PreemptLowerPriority".to_string())),
        }
    } else {
        let class = classes
            .iter()
            .find(|c| c.metadata.name.as_deref() == Some(class_name.as_str()))
            .ok_or_else(|| format!("no PriorityClass with name {class_name} was found"))?;
        (class.value, class.preemption_policy.clone())
    };
    if let Some(given) = spec.priority
        && given != priority
    {
        return Err(format!(
            "the integer value of priority ({given}) must not be provided in pod spec; priority admission controller computed {priority} from the given PriorityClass name"
        ));
    }
    spec.priority = Some(priority);
    if let Some(policy) = policy {
        if let Some(given) = spec.preemption_policy.as_deref()
            && given != policy
        {
            return Err(format!(
                "the string value of PreemptionPolicy ({given}) must not be provided in pod spec; priority admission controller computed {policy} from the given PriorityClass name"
            ));
        }
        spec.preemption_policy = Some(policy);
    }
    Ok(())
}

/// The Priority plugin's `validatePriorityClass`: only one class may be the global default.
/// `existing` are the stored classes; `Err` is the Forbidden reason.
pub fn admit_priority_class(
    class: &PriorityClass,
    existing: &[PriorityClass],
    is_create: bool,
) -> Result<(), String> {
    if class.global_default != Some(true) {
        return Ok(());
    }
    match default_class(existing) {
        Some(current) if is_create || current.metadata.name != class.metadata.name => Err(format!(
            "PriorityClass {} is already marked as default. Only one default can exist",
            current.metadata.name.as_deref().unwrap_or_default()
        )),
        _ => Ok(()),
    }
}

/// The classes every cluster has, created by the API server at start
/// (`scheduling.SystemPriorityClasses`).
pub fn system_priority_classes() -> Vec<PriorityClass> {
    [
        (
            "system-node-critical",
            2_000_001_000,
            "Used for system critical pods that must not be moved from their current node.",
        ),
        (
            "system-cluster-critical",
            2_000_000_000,
            "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.",
        ),
    ]
    .into_iter()
    .map(|(name, value, description)| PriorityClass {
        metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
            name: Some(name.to_string()),
            ..Default::default()
        },
        value,
        description: Some(description.to_string()),
        preemption_policy: Some("PreemptLowerPriority".to_string()),
        global_default: None,
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn class(name: &str, value: i32, default: bool, policy: &str) -> PriorityClass {
        serde_json::from_value(json!({
            "metadata": {"name": name}, "value": value, "globalDefault": default,
            "preemptionPolicy": policy,
        }))
        .unwrap()
    }

    fn pod(spec: serde_json::Value) -> Pod {
        let mut spec = spec;
        spec["containers"] = json!([{"name": "a", "image": "x"}]);
        serde_json::from_value(json!({"metadata": {"name": "web"}, "spec": spec})).unwrap()
    }

    fn admitted(
        spec: serde_json::Value,
        classes: &[PriorityClass],
    ) -> Result<(i32, String, String), String> {
        let mut p = pod(spec);
        admit_pod(&mut p, classes)?;
        let s = p.spec.unwrap();
        Ok((
            s.priority.unwrap(),
            s.preemption_policy.unwrap_or_default(),
            s.priority_class_name.unwrap_or_default(),
        ))
    }

    #[test]
    fn pods_get_their_class_priority_or_the_default() {
        let mut classes = system_priority_classes();
        classes.push(class("high", 1000, false, "Never"));
        assert_eq!(
            admitted(json!({}), &classes),
            Ok((0, "PreemptLowerPriority".into(), String::new()))
        );
        assert_eq!(
            admitted(json!({"priorityClassName": "high"}), &classes),
            Ok((1000, "Never".into(), "high".into()))
        );
        assert_eq!(
            admitted(
                json!({"priorityClassName": "system-node-critical"}),
                &classes
            ),
            Ok((
                2_000_001_000,
                "PreemptLowerPriority".into(),
                "system-node-critical".into()
            ))
        );
        assert_eq!(
            admitted(json!({"priorityClassName": "nope"}), &classes),
            Err("no PriorityClass with name nope was found".into())
        );
        assert_eq!(
            admitted(json!({"priorityClassName": "high", "priority": 5}), &classes),
            Err("the integer value of priority (5) must not be provided in pod spec; priority admission controller computed 1000 from the given PriorityClass name".into())
        );
        assert_eq!(
            admitted(json!({"preemptionPolicy": "Never"}), &classes),
            Err("the string value of PreemptionPolicy (Never) must not be provided in pod spec; priority admission controller computed PreemptLowerPriority from the given PriorityClass name".into())
        );
        classes.push(class("everyone", 7, true, "PreemptLowerPriority"));
        assert_eq!(
            admitted(json!({}), &classes),
            Ok((7, "PreemptLowerPriority".into(), "everyone".into()))
        );
    }

    #[test]
    fn only_one_global_default() {
        let existing = vec![class("everyone", 7, true, "PreemptLowerPriority")];
        let second = class("another", 8, true, "PreemptLowerPriority");
        assert_eq!(
            admit_priority_class(&second, &existing, true),
            Err(
                "PriorityClass everyone is already marked as default. Only one default can exist"
                    .into()
            )
        );
        assert_eq!(admit_priority_class(&existing[0], &existing, false), Ok(()));
        assert_eq!(
            admit_priority_class(&class("x", 1, false, "Never"), &existing, true),
            Ok(())
        );
    }
}
