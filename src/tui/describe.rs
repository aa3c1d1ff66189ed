//! `kubectl describe pod`'s layout, from the pod and its events as the API has them. Pure: the
//! view calls it on each frame it is open, so it stays live.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use k8s_openapi::api::core::v1::{ContainerState, Event, Pod};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::jiff::Timestamp;

use crate::api::http::table::human_duration;

/// kubectl's time format (Go's RFC 1123 with a numeric zone).
fn time(t: &Timestamp) -> String {
    t.strftime("%a, %d %b %Y %H:%M:%S %z").to_string()
}

fn field(out: &mut Vec<String>, indent: usize, name: &str, width: usize, value: &str) {
    let label = format!("{name}:");
    out.push(format!("{:indent$}{label:<width$}{value}", ""));
}

fn map_lines(out: &mut Vec<String>, name: &str, map: Option<&BTreeMap<String, String>>) {
    let mut entries = map.into_iter().flatten();
    match entries.next() {
        None => field(out, 0, name, 18, "<none>"),
        Some((k, v)) => {
            field(out, 0, name, 18, &format!("{k}={v}"));
            for (k, v) in entries {
                out.push(format!("{:18}{k}={v}", ""));
            }
        }
    }
}

fn state_lines(out: &mut Vec<String>, label: &str, state: Option<&ContainerState>) {
    let Some(state) = state else {
        field(out, 4, label, 16, "Waiting");
        return;
    };
    if let Some(r) = &state.running {
        field(out, 4, label, 16, "Running");
        if let Some(t) = &r.started_at {
            field(out, 6, "Started", 14, &time(&t.0));
        }
    } else if let Some(t) = &state.terminated {
        field(out, 4, label, 16, "Terminated");
        if let Some(r) = t.reason.as_deref() {
            field(out, 6, "Reason", 14, r);
        }
        field(out, 6, "Exit Code", 14, &t.exit_code.to_string());
        if let Some(s) = &t.started_at {
            field(out, 6, "Started", 14, &time(&s.0));
        }
        if let Some(f) = &t.finished_at {
            field(out, 6, "Finished", 14, &time(&f.0));
        }
    } else if let Some(w) = &state.waiting {
        field(out, 4, label, 16, "Waiting");
        if let Some(r) = w.reason.as_deref() {
            field(out, 6, "Reason", 14, r);
        }
        if let Some(m) = w.message.as_deref() {
            field(out, 6, "Message", 14, m);
        }
    }
}

fn resources(out: &mut Vec<String>, name: &str, list: Option<&BTreeMap<String, Quantity>>) {
    let Some(list) = list.filter(|l| !l.is_empty()) else {
        return;
    };
    out.push(format!("    {name}:"));
    for (k, q) in list {
        out.push(format!("      {k}:  {}", q.0));
    }
}

/// The describe text of `pod`, with `events` (oldest first) at the end.
pub fn describe_pod(pod: &Pod, events: &[&Event], now: Timestamp) -> Vec<String> {
    let mut out = Vec::new();
    let meta = &pod.metadata;
    let spec = pod.spec.as_ref();
    let status = pod.status.as_ref();
    field(&mut out, 0, "Name", 18, meta.name.as_deref().unwrap_or(""));
    field(
        &mut out,
        0,
        "Namespace",
        18,
        meta.namespace.as_deref().unwrap_or("default"),
    );
    field(
        &mut out,
        0,
        "Priority",
        18,
        &spec.and_then(|s| s.priority).unwrap_or(0).to_string(),
    );
    if let Some(pc) = spec.and_then(|s| s.priority_class_name.as_deref()) {
        field(&mut out, 0, "Priority Class Name", 18, pc);
    }
    field(
        &mut out,
        0,
        "Service Account",
        18,
        spec.and_then(|s| s.service_account_name.as_deref())
            .unwrap_or("default"),
    );
    let node = match (
        spec.and_then(|s| s.node_name.as_deref()),
        status.and_then(|s| s.host_ip.as_deref()),
    ) {
        (Some(n), Some(ip)) => format!("{n}/{ip}"),
        (Some(n), None) => n.to_string(),
        (None, _) => "<none>".to_string(),
    };
    field(&mut out, 0, "Node", 18, &node);
    if let Some(t) = status.and_then(|s| s.start_time.as_ref()) {
        field(&mut out, 0, "Start Time", 18, &time(&t.0));
    }
    map_lines(&mut out, "Labels", meta.labels.as_ref());
    map_lines(&mut out, "Annotations", meta.annotations.as_ref());
    let mut phase = status
        .and_then(|s| s.phase.clone())
        .unwrap_or_else(|| "Pending".into());
    if let Some(t) = &meta.deletion_timestamp {
        phase = format!(
            "Terminating (lasts {})",
            human_duration(now.duration_since(t.0))
        );
    }
    field(&mut out, 0, "Status", 18, &phase);
    if let Some(reason) = status.and_then(|s| s.reason.as_deref()) {
        field(&mut out, 0, "Reason", 18, reason);
    }
    if let Some(message) = status.and_then(|s| s.message.as_deref()) {
        field(&mut out, 0, "Message", 18, message);
    }
    field(
        &mut out,
        0,
        "IP",
        18,
        status.and_then(|s| s.pod_ip.as_deref()).unwrap_or(""),
    );
    if let Some(n) = status.and_then(|s| s.nominated_node_name.as_deref()) {
        field(&mut out, 0, "NominatedNodeName", 18, n);
    }
    out.push("Containers:".into());
    let statuses = status
        .and_then(|s| s.container_statuses.as_deref())
        .unwrap_or_default();
    for c in spec.map(|s| s.containers.as_slice()).unwrap_or_default() {
        out.push(format!("  {}:", c.name));
        let cs = statuses.iter().find(|s| s.name == c.name);
        if let Some(id) = cs.and_then(|s| s.container_id.as_deref()) {
            field(&mut out, 4, "Container ID", 16, id);
        }
        field(&mut out, 4, "Image", 16, c.image.as_deref().unwrap_or(""));
        if let Some(id) = cs.map(|s| s.image_id.as_str()).filter(|s| !s.is_empty()) {
            field(&mut out, 4, "Image ID", 16, id);
        }
        let ports: Vec<String> = c
            .ports
            .iter()
            .flatten()
            .map(|p| {
                format!(
                    "{}/{}",
                    p.container_port,
                    p.protocol.as_deref().unwrap_or("TCP")
                )
            })
            .collect();
        field(
            &mut out,
            4,
            "Port",
            16,
            if ports.is_empty() {
                "<none>"
            } else {
                &ports[0]
            },
        );
        if let Some(cmd) = c.command.as_ref() {
            out.push("    Command:".into());
            for part in cmd {
                out.push(format!("      {part}"));
            }
        }
        if let Some(args) = c.args.as_ref() {
            out.push("    Args:".into());
            for part in args {
                out.push(format!("      {part}"));
            }
        }
        state_lines(&mut out, "State", cs.and_then(|s| s.state.as_ref()));
        if let Some(last) = cs
            .and_then(|s| s.last_state.as_ref())
            .filter(|l| l.terminated.is_some())
        {
            state_lines(&mut out, "Last State", Some(last));
        }
        field(
            &mut out,
            4,
            "Ready",
            16,
            if cs.is_some_and(|s| s.ready) {
                "True"
            } else {
                "False"
            },
        );
        field(
            &mut out,
            4,
            "Restart Count",
            16,
            &cs.map_or(0, |s| s.restart_count).to_string(),
        );
        let res = c.resources.as_ref();
        resources(&mut out, "Limits", res.and_then(|r| r.limits.as_ref()));
        resources(&mut out, "Requests", res.and_then(|r| r.requests.as_ref()));
    }
    let conditions = status
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default();
    if !conditions.is_empty() {
        out.push("Conditions:".into());
        out.push(format!("  {:<28}{}", "Type", "Status"));
        for c in conditions {
            out.push(format!("  {:<28}{}", c.type_, c.status));
        }
    }
    if let Some(q) = status.and_then(|s| s.qos_class.as_deref()) {
        field(&mut out, 0, "QoS Class", 18, q);
    }
    let selectors: Vec<String> = spec
        .and_then(|s| s.node_selector.as_ref())
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    field(
        &mut out,
        0,
        "Node-Selectors",
        18,
        &if selectors.is_empty() {
            "<none>".to_string()
        } else {
            selectors.join(",")
        },
    );
    let tolerations: Vec<String> = spec
        .and_then(|s| s.tolerations.as_ref())
        .into_iter()
        .flatten()
        .map(|t| {
            let mut s = t.key.clone().unwrap_or_default();
            if let Some(v) = t.value.as_deref().filter(|v| !v.is_empty()) {
                let _ = write!(s, "={v}");
            }
            if let Some(e) = t.effect.as_deref() {
                let _ = write!(s, ":{e}");
            }
            if t.operator.as_deref() == Some("Exists") {
                if t.key.is_none() && t.effect.is_none() {
                    s = "op=Exists".into();
                } else {
                    s.push_str(" op=Exists");
                }
            }
            if let Some(secs) = t.toleration_seconds {
                let _ = write!(s, " for {secs}s");
            }
            s
        })
        .collect();
    match tolerations.split_first() {
        None => field(&mut out, 0, "Tolerations", 18, "<none>"),
        Some((first, rest)) => {
            field(&mut out, 0, "Tolerations", 18, first);
            for t in rest {
                out.push(format!("{:18}{t}", ""));
            }
        }
    }
    events_table(&mut out, events, now);
    out
}

/// kubectl's `Events:` table; AGE is `2m (x3 over 5m)` for an event seen more than once.
fn events_table(out: &mut Vec<String>, events: &[&Event], now: Timestamp) {
    if events.is_empty() {
        out.push("Events:            <none>".into());
        return;
    }
    out.push("Events:".into());
    let rows: Vec<[String; 5]> = events
        .iter()
        .map(|e| {
            let last = super::model::last_seen(e);
            let first = e.first_timestamp.as_ref().map(|t| t.0).or(last);
            let since = |t: Option<Timestamp>| {
                t.map_or("<unknown>".to_string(), |t| {
                    human_duration(now.duration_since(t))
                })
            };
            let count = e.count.unwrap_or(1);
            let age = if count > 1 {
                format!("{} (x{count} over {})", since(last), since(first))
            } else {
                since(last)
            };
            let from = e
                .source
                .as_ref()
                .and_then(|s| {
                    let c = s.component.clone()?;
                    Some(match s.host.as_deref() {
                        Some(h) if !h.is_empty() => format!("{c}, {h}"),
                        _ => c,
                    })
                })
                .or_else(|| e.reporting_component.clone())
                .unwrap_or_default();
            [
                e.type_.clone().unwrap_or_default(),
                e.reason.clone().unwrap_or_default(),
                age,
                from,
                e.message.clone().unwrap_or_default().trim().to_string(),
            ]
        })
        .collect();
    let header = ["Type", "Reason", "Age", "From", "Message"];
    let rule = ["----", "------", "----", "----", "-------"];
    let mut widths = header.map(str::len);
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 5]| {
        let mut s = String::from("  ");
        for (i, cell) in cells.iter().enumerate() {
            if i == 4 {
                s.push_str(cell);
            } else {
                let _ = write!(s, "{cell:<w$}  ", w = widths[i]);
            }
        }
        s
    };
    out.push(line(header));
    out.push(line(rule));
    for r in &rows {
        out.push(line([&r[0], &r[1], &r[2], &r[3], &r[4]]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_events_say_how_often_and_over_how_long() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"containers": [{"name": "app", "image": "busybox"}]}
        }))
        .unwrap();
        let event: Event = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web.1", "namespace": "default"},
            "involvedObject": {"kind": "Pod", "name": "web", "namespace": "default"},
            "type": "Warning", "reason": "BackOff", "count": 3,
            "message": "Back-off restarting failed container app in pod web_default(u)",
            "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:01:00Z",
            "source": {"component": "kubelet", "host": "node-1"}
        }))
        .unwrap();
        let now: Timestamp = "2026-01-01T00:02:00Z".parse().unwrap();
        let lines = describe_pod(&pod, &[&event], now);
        let last = lines.last().unwrap();
        assert_eq!(
            last,
            "  Warning  BackOff  60s (x3 over 2m)  kubelet, node-1  Back-off restarting failed container app in pod web_default(u)"
        );
        assert!(lines.iter().any(|l| l == "Name:             web"));
    }
}
