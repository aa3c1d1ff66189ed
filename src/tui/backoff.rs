//! How long until the kubelet restarts a container in CrashLoopBackOff, from what the API
//! shows. The kubelet knows the back-off's deadline but does not publish it; the pod's status
//! carries the back-off in the waiting message (`back-off 20s restarting failed
//! container=app pod=…`) and the instance's end in `lastState.terminated.finishedAt`. The
//! back-off runs from the moment the kubelet recorded the failure (client-go's `Backoff.Next`
//! at the sync after the exit), which is at or just after `finishedAt`, so the countdown is
//! `finishedAt + back-off - now` and may be early by up to one sync. ImagePullBackOff's
//! message (`Back-off pulling image "…"`) carries no duration, so no countdown is shown for it.

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::{SignedDuration, Timestamp};

/// Go's `time.Duration.String()` form back to a duration: `10s`, `1.5s`, `2m40s`, `5m0s`,
/// `1h0m0s`, `200ms`. `None` for anything else.
pub fn parse_go_duration(text: &str) -> Option<SignedDuration> {
    if let Some(ms) = text.strip_suffix("ms") {
        return ms
            .parse::<f64>()
            .ok()
            .map(|v| SignedDuration::from_secs_f64(v / 1000.0));
    }
    let mut total = 0.0f64;
    let mut number = String::new();
    let mut any = false;
    for c in text.chars() {
        match c {
            '0'..='9' | '.' => number.push(c),
            'h' | 'm' | 's' => {
                let v: f64 = number.parse().ok()?;
                number.clear();
                total += v * match c {
                    'h' => 3600.0,
                    'm' => 60.0,
                    _ => 1.0,
                };
                any = true;
            }
            _ => return None,
        }
    }
    (any && number.is_empty()).then(|| SignedDuration::from_secs_f64(total))
}

/// The first container in CrashLoopBackOff and when it is restarted: its last finish plus the
/// back-off its waiting message names.
pub fn crash_loop_retry_at(pod: &Pod) -> Option<(String, Timestamp)> {
    let statuses = pod.status.as_ref()?.container_statuses.as_ref()?;
    statuses.iter().find_map(|c| {
        let waiting = c.state.as_ref()?.waiting.as_ref()?;
        if waiting.reason.as_deref() != Some("CrashLoopBackOff") {
            return None;
        }
        let message = waiting.message.as_deref()?;
        let backoff = parse_go_duration(message.strip_prefix("back-off ")?.split(' ').next()?)?;
        let finished = c
            .last_state
            .as_ref()?
            .terminated
            .as_ref()?
            .finished_at
            .as_ref()?
            .0;
        Some((c.name.clone(), finished.checked_add(backoff).ok()?))
    })
}

/// `CrashLoopBackOff` with the countdown to `retry_at`: `CrashLoopBackOff (retry in 13s)`.
pub fn status_with_countdown(status: &str, retry_at: Option<Timestamp>, now: Timestamp) -> String {
    if status != "CrashLoopBackOff" {
        return status.to_string();
    }
    match retry_at {
        Some(at) => {
            let left = at.duration_since(now).max(SignedDuration::ZERO);
            let secs = left.as_secs() + i64::from(left.subsec_nanos() > 0);
            format!("{status} (retry in {secs}s)")
        }
        None => status.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_parse() {
        let s = |v: f64| Some(SignedDuration::from_secs_f64(v));
        assert_eq!(parse_go_duration("10s"), s(10.0));
        assert_eq!(parse_go_duration("1.5s"), s(1.5));
        assert_eq!(parse_go_duration("2m40s"), s(160.0));
        assert_eq!(parse_go_duration("5m0s"), s(300.0));
        assert_eq!(parse_go_duration("1h0m0s"), s(3600.0));
        assert_eq!(parse_go_duration("200ms"), s(0.2));
        assert_eq!(parse_go_duration("soon"), None);
        assert_eq!(parse_go_duration("10"), None);
        assert_eq!(parse_go_duration(""), None);
    }

    #[test]
    fn the_countdown_runs_from_the_last_finish() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "crasher"},
            "status": {"containerStatuses": [{
                "name": "app", "image": "busybox:1.36", "imageID": "", "ready": false,
                "restartCount": 2,
                "state": {"waiting": {"reason": "CrashLoopBackOff",
                    "message": "back-off 20s restarting failed container=app pod=crasher_default(u1)"}},
                "lastState": {"terminated": {"exitCode": 1, "reason": "Error",
                    "finishedAt": "2026-01-01T00:00:00Z"}}
            }]}
        }))
        .unwrap();
        let at = |t: &str| t.parse::<Timestamp>().unwrap();
        let retry = crash_loop_retry_at(&pod).map(|(_, at)| at);
        assert_eq!(retry, Some(at("2026-01-01T00:00:20Z")));
        assert_eq!(
            status_with_countdown("CrashLoopBackOff", retry, at("2026-01-01T00:00:07Z")),
            "CrashLoopBackOff (retry in 13s)"
        );
        assert_eq!(
            status_with_countdown("CrashLoopBackOff", retry, at("2026-01-01T00:00:30Z")),
            "CrashLoopBackOff (retry in 0s)"
        );
        assert_eq!(
            status_with_countdown("Running", retry, at("2026-01-01T00:00:07Z")),
            "Running"
        );
    }
}
