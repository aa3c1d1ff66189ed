//! Node validation (`ValidateNode`, `ValidateNodeUpdate`, v1.32): name, taints, resource
//! quantities in capacity/allocatable, podCIDRs; on update, podCIDRs and providerID may
//! only go from empty to set, and addresses must be unique.

use k8s_openapi::api::core::v1::{Node, Taint};

use super::container::{parse_quantity, validate_quantity_value};
use super::field::{FieldError, Path, Value, go_quote};
use super::messages as msg;
use super::meta::{
    NameKind, validate_label_name, validate_object_meta, validate_object_meta_update,
};
use super::names::{is_valid_label_value, parse_cidr_sloppy};
use super::opt_str;
use super::scheduling::validate_taint_effect;

/// Go `ValidateNode`.
pub fn validate_node(node: &Node) -> Vec<FieldError> {
    let meta_path = Path::new("metadata");
    let mut errs = validate_object_meta(&node.metadata, false, NameKind::DnsSubdomain);
    let spec = node.spec.clone().unwrap_or_default();
    // Go reports taint errors under `metadata.taints`.
    errs.extend(validate_node_taints(
        spec.taints.as_deref().unwrap_or_default(),
        &meta_path.child("taints"),
    ));
    errs.extend(validate_node_resources(node));
    errs.extend(validate_pod_cidrs(
        spec.pod_cidrs.as_deref().unwrap_or_default(),
    ));
    errs
}

/// Go `ValidateNodeUpdate`.
pub fn validate_node_update(node: &Node, old: &Node) -> Vec<FieldError> {
    let meta_path = Path::new("metadata");
    let mut errs = validate_object_meta_update(&node.metadata, &old.metadata);
    errs.extend(validate_node_resources(node));
    let status = node.status.clone().unwrap_or_default();
    let addresses = status.addresses.unwrap_or_default();
    let addresses_path = Path::new("status").child("addresses");
    for (i, address) in addresses.iter().enumerate() {
        if addresses[..i].contains(address) {
            let rendered = format!(
                "core.NodeAddress{{Type:{}, Address:{}}}",
                go_quote(&address.type_),
                go_quote(&address.address)
            );
            errs.push(FieldError::duplicate(
                addresses_path.index(i),
                Value::raw(rendered),
            ));
        }
    }
    let spec = node.spec.clone().unwrap_or_default();
    let old_spec = old.spec.clone().unwrap_or_default();
    let old_cidrs = old_spec.pod_cidrs.unwrap_or_default();
    if !old_cidrs.is_empty() {
        let new_cidrs = spec.pod_cidrs.clone().unwrap_or_default();
        let cidr_path = Path::new("spec").child("podCIDRs");
        if old_cidrs.len() != new_cidrs.len() {
            errs.push(FieldError::forbidden(&cidr_path, msg::POD_CIDR_CHANGE));
        } else {
            for (o, n) in old_cidrs.iter().zip(&new_cidrs) {
                if o != n {
                    errs.push(FieldError::forbidden(&cidr_path, msg::POD_CIDR_CHANGE));
                }
            }
        }
    }
    let old_provider = opt_str(&old_spec.provider_id);
    if !old_provider.is_empty() && old_provider != opt_str(&spec.provider_id) {
        errs.push(FieldError::forbidden(
            Path::new("spec").child("providerID"),
            msg::PROVIDER_ID_CHANGE,
        ));
    }
    errs.extend(validate_node_taints(
        spec.taints.as_deref().unwrap_or_default(),
        &meta_path.child("taints"),
    ));
    if spec.external_id != old_spec.external_id {
        errs.push(FieldError::forbidden(
            Path::new("spec").child("externalID"),
            "may not be updated",
        ));
    }
    errs
}

/// Go `validateNodeTaints`: key a label name, value a label value, effect required and
/// supported, each (key, effect) pair once.
pub fn validate_node_taints(taints: &[Taint], path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for (i, taint) in taints.iter().enumerate() {
        let idx = path.index(i);
        errs.extend(validate_label_name(&taint.key, &idx.child("key")));
        let value = opt_str(&taint.value);
        let problems = is_valid_label_value(value);
        if !problems.is_empty() {
            errs.push(FieldError::invalid(
                idx.child("value"),
                value,
                problems.join(";"),
            ));
        }
        errs.extend(validate_taint_effect(
            &taint.effect,
            false,
            &idx.child("effect"),
        ));
        let pair = (taint.key.as_str(), taint.effect.as_str());
        if seen.contains(&pair) {
            errs.push(
                FieldError::duplicate(idx, Value::raw(go_taint(taint)))
                    .with_detail(msg::TAINTS_UNIQUE),
            );
            continue;
        }
        seen.push(pair);
    }
    errs
}

/// Go's `%#v` of an internal `core.Taint`.
fn go_taint(taint: &Taint) -> String {
    let time_added = match &taint.time_added {
        None => "(*v1.Time)(nil)".to_string(),
        Some(t) => format!("(*v1.Time)({})", t.0),
    };
    format!(
        "core.Taint{{Key:{}, Value:{}, Effect:{}, TimeAdded:{time_added}}}",
        go_quote(&taint.key),
        go_quote(opt_str(&taint.value)),
        go_quote(&taint.effect)
    )
}

/// Go `ValidateNodeResources` (paths are `status.capacity.cpu`, as in Go).
fn validate_node_resources(node: &Node) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let Some(status) = &node.status else {
        return errs;
    };
    for (field, list) in [
        ("capacity", &status.capacity),
        ("allocatable", &status.allocatable),
    ] {
        for (name, raw) in list.iter().flatten() {
            let path = Path::new("status").child(field).child(name);
            match parse_quantity(raw, &path) {
                Ok(q) => errs.extend(validate_quantity_value(name, &q, &path)),
                Err(e) => errs.push(e),
            }
        }
    }
    errs
}

fn validate_pod_cidrs(cidrs: &[String]) -> Vec<FieldError> {
    let path = Path::new("spec").child("podCIDRs");
    let mut errs = Vec::new();
    let mut families = Vec::new();
    for (i, cidr) in cidrs.iter().enumerate() {
        match parse_cidr_sloppy(cidr) {
            Some(is_v4) => families.push(is_v4),
            None => errs.push(FieldError::invalid(path.index(i), cidr, msg::INVALID_CIDR)),
        }
    }
    if cidrs.len() > 1 {
        let dual =
            families.len() == cidrs.len() && families.contains(&true) && families.contains(&false);
        if families.len() != cidrs.len() {
            errs.push(FieldError::internal(
                &path,
                "invalid PodCIDRs. failed to check with dual stack with error:invalid CIDR",
            ));
        }
        if !dual || cidrs.len() > 2 {
            let rendered = super::field::go_string_slice_literal(cidrs);
            errs.push(FieldError::invalid(
                &path,
                Value::raw(rendered),
                msg::ONE_CIDR_PER_FAMILY,
            ));
        }
        for (i, cidr) in cidrs.iter().enumerate() {
            if cidrs[..i].contains(cidr) {
                errs.push(FieldError::duplicate(path.index(i), cidr));
            }
        }
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{NodeAddress, NodeSpec, NodeStatus};
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use std::collections::BTreeMap;

    fn node(name: &str) -> Node {
        Node {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..ObjectMeta::default()
            },
            ..Node::default()
        }
    }

    fn taint(key: &str, effect: &str) -> Taint {
        Taint {
            key: key.into(),
            effect: effect.into(),
            ..Taint::default()
        }
    }

    fn messages(errs: &[FieldError]) -> Vec<String> {
        errs.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn validates_nodes() {
        assert!(validate_node(&node("node-1")).is_empty());
        let mut bad = node("node-1");
        bad.metadata.namespace = Some("default".into());
        bad.spec = Some(NodeSpec {
            taints: Some(vec![
                taint("gpu", "NoSchedule"),
                taint("gpu", "NoSchedule"),
                taint("x", ""),
                taint("y", "Never"),
            ]),
            pod_cidrs: Some(vec!["10.0.0.0/24".into(), "10.1.0.0/24".into()]),
            ..NodeSpec::default()
        });
        let quantities = BTreeMap::from([
            ("cpu".to_string(), K8sQuantity("-1".into())),
            ("pods".to_string(), K8sQuantity("1.5".into())),
            ("memory".to_string(), K8sQuantity("lots".into())),
        ]);
        bad.status = Some(NodeStatus {
            capacity: Some(quantities),
            ..NodeStatus::default()
        });
        assert_eq!(
            messages(&validate_node(&bad)),
            vec![
                "metadata.namespace: Forbidden: not allowed on this type",
                "metadata.taints[1]: Duplicate value: core.Taint{Key:\"gpu\", Value:\"\", Effect:\"NoSchedule\", TimeAdded:(*v1.Time)(nil)}: taints must be unique by key and effect pair",
                "metadata.taints[2].effect: Required value",
                "metadata.taints[3].effect: Unsupported value: \"Never\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"",
                "status.capacity.cpu: Invalid value: \"-1\": must be greater than or equal to 0",
                "status.capacity.memory: Invalid value: \"lots\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
                "status.capacity.pods: Invalid value: 1500m: must be an integer",
                "spec.podCIDRs: Invalid value: []string{\"10.0.0.0/24\", \"10.1.0.0/24\"}: may specify no more than one CIDR for each IP family",
            ]
        );
    }

    #[test]
    fn validates_node_updates() {
        let mut old = node("node-1");
        old.metadata.resource_version = Some("1".into());
        old.spec = Some(NodeSpec {
            pod_cidrs: Some(vec!["10.0.0.0/24".into()]),
            provider_id: Some("kubox://node-1".into()),
            ..NodeSpec::default()
        });
        let mut new = old.clone();
        assert!(validate_node_update(&new, &old).is_empty());
        new.spec = Some(NodeSpec {
            pod_cidrs: Some(vec!["10.9.0.0/24".into()]),
            provider_id: Some("other".into()),
            unschedulable: Some(true),
            ..NodeSpec::default()
        });
        let address = NodeAddress {
            type_: "InternalIP".into(),
            address: "10.0.0.2".into(),
        };
        new.status = Some(NodeStatus {
            addresses: Some(vec![address.clone(), address]),
            ..NodeStatus::default()
        });
        assert_eq!(
            messages(&validate_node_update(&new, &old)),
            vec![
                "status.addresses[1]: Duplicate value: core.NodeAddress{Type:\"InternalIP\", Address:\"10.0.0.2\"}",
                "spec.podCIDRs: Forbidden: node updates may not change podCIDR except from \"\" to valid",
                "spec.providerID: Forbidden: node updates may not change providerID except from \"\" to valid",
            ]
        );
    }
}
