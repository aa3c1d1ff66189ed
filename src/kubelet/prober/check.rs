//! One probe, once: exec through the runtime, httpGet and tcpSocket over the pod's network —
//! with Kubernetes' success rules (exit 0; status 200–399; a connection) and its failure texts,
//! which become the `Unhealthy` events' messages.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::Empty;
use hyper_util::rt::TokioIo;
use k8s_openapi::api::core::v1::{Container, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::kubelet::runtime::Runtime;
use crate::kubelet::runtime::exec::ExecRequest;

/// The `User-Agent` of kubelet probes.
pub const USER_AGENT: &str = "kube-probe/1.32";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
}

/// Where a probe goes: the running container instance and its pod's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub container_id: String,
    pub pod_ip: String,
}

/// `timeoutSeconds` (default 1).
pub fn timeout(probe: &Probe) -> Duration {
    Duration::from_secs(probe.timeout_seconds.filter(|t| *t > 0).unwrap_or(1) as u64)
}

/// A probe's (or hook's) port: a number, or the name of one of the container's ports.
pub(crate) fn port(port: &IntOrString, container: &Container) -> Result<u16, String> {
    match port {
        IntOrString::Int(n) => u16::try_from(*n).map_err(|_| format!("invalid port number: {n}")),
        IntOrString::String(name) => container
            .ports
            .iter()
            .flatten()
            .find(|p| p.name.as_deref() == Some(name.as_str()))
            .and_then(|p| u16::try_from(p.container_port).ok())
            .ok_or_else(|| format!("couldn't find port: {name} in {}", container.name)),
    }
}

/// Go's `net.Dial` error text for a failed connect.
fn dial_error(addr: &str, e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::ConnectionRefused => {
            format!("dial tcp {addr}: connect: connection refused")
        }
        std::io::ErrorKind::TimedOut => format!("dial tcp {addr}: i/o timeout"),
        _ => format!("dial tcp {addr}: {e}"),
    }
}

async fn connect(addr: &str, limit: Duration) -> Result<tokio::net::TcpStream, String> {
    match tokio::time::timeout(limit, tokio::net::TcpStream::connect(addr)).await {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(e)) => Err(dial_error(addr, &e)),
        Err(_) => Err(format!("dial tcp {addr}: i/o timeout")),
    }
}

/// Runs `probe` once against `target`; the message is what the event says after
/// `Liveness probe failed: `.
pub async fn check(
    probe: &Probe,
    container: &Container,
    target: &Target,
    runtime: &dyn Runtime,
) -> (Outcome, String) {
    let limit = timeout(probe);
    if let Some(healthy) = runtime.simulated_health(&target.container_id).await {
        return simulated(probe, container, target, healthy);
    }
    if let Some(exec) = &probe.exec {
        let command = exec.command.clone().unwrap_or_default();
        let request = ExecRequest {
            command: command.clone(),
            stdin: false,
            stdout: true,
            stderr: true,
            tty: false,
        };
        let run = async {
            let session = runtime.exec(&target.container_id, &request).await?;
            session.collect().await
        };
        return match tokio::time::timeout(limit, run).await {
            Err(_) => (
                Outcome::Failure,
                format!("command {:?} timed out", command.join(" ")),
            ),
            Ok(Err(e)) => (Outcome::Failure, e.to_string()),
            Ok(Ok(r)) => {
                let mut output = r.stdout;
                output.extend_from_slice(&r.stderr);
                let output = String::from_utf8_lossy(&output).into_owned();
                if r.exit_code == 0 {
                    (Outcome::Success, output)
                } else {
                    (Outcome::Failure, output)
                }
            }
        };
    }
    if let Some(tcp) = &probe.tcp_socket {
        let port = match port(&tcp.port, container) {
            Ok(p) => p,
            Err(e) => return (Outcome::Failure, e),
        };
        let host = tcp.host.clone().unwrap_or_else(|| target.pod_ip.clone());
        let addr = format!("{host}:{port}");
        return match connect(&addr, limit).await {
            Ok(_) => (Outcome::Success, String::new()),
            Err(e) => (Outcome::Failure, e),
        };
    }
    if let Some(http) = &probe.http_get {
        let port = match port(&http.port, container) {
            Ok(p) => p,
            Err(e) => return (Outcome::Failure, e),
        };
        let scheme = http.scheme.as_deref().unwrap_or("HTTP");
        let host = http.host.clone().unwrap_or_else(|| target.pod_ip.clone());
        let path = http.path.clone().unwrap_or_else(|| "/".into());
        let path = if path.starts_with('/') {
            path
        } else {
            format!("/{path}")
        };
        let url = format!("{}://{host}:{port}{path}", scheme.to_lowercase());
        if !scheme.eq_ignore_ascii_case("HTTP") {
            return (
                Outcome::Failure,
                format!("Get {url:?}: kubox probes speak plain HTTP only (scheme {scheme})"),
            );
        }
        let headers = header_pairs(http);
        let addr = format!("{host}:{port}");
        let get = http_get(&addr, &path, &headers, limit);
        return match tokio::time::timeout(limit, get).await {
            Err(_) => (
                Outcome::Failure,
                format!(
                    "Get {url:?}: context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
                ),
            ),
            Ok(Err(e)) => (Outcome::Failure, format!("Get {url:?}: {e}")),
            Ok(Ok(code)) if (200..400).contains(&code) => (Outcome::Success, String::new()),
            Ok(Ok(code)) => (
                Outcome::Failure,
                format!("HTTP probe failed with statuscode: {code}"),
            ),
        };
    }
    (
        Outcome::Failure,
        "kubox runs exec, httpGet and tcpSocket probes; this probe has none of them".into(),
    )
}

/// An httpGet action's headers as `(name, value)`.
pub(crate) fn header_pairs(
    http: &k8s_openapi::api::core::v1::HTTPGetAction,
) -> Vec<(String, String)> {
    http.http_headers
        .iter()
        .flatten()
        .map(|h| (h.name.clone(), h.value.clone()))
        .collect()
}

/// A simulated container's answer, worded as a real one failing that way would be.
fn simulated(
    probe: &Probe,
    container: &Container,
    target: &Target,
    healthy: bool,
) -> (Outcome, String) {
    if healthy {
        return (Outcome::Success, String::new());
    }
    let port_of = |p: &IntOrString| port(p, container).map_or_else(|e| e, |p| p.to_string());
    let message = if probe.http_get.is_some() {
        "HTTP probe failed with statuscode: 503".to_string()
    } else if let Some(tcp) = &probe.tcp_socket {
        format!(
            "dial tcp {}:{}: connect: connection refused",
            target.pod_ip,
            port_of(&tcp.port)
        )
    } else {
        String::new()
    };
    (Outcome::Failure, message)
}

/// `GET path` on `addr`; the response's status code.
pub(crate) async fn http_get(
    addr: &str,
    path: &str,
    headers: &[(String, String)],
    limit: Duration,
) -> Result<u16, String> {
    let stream = connect(addr, limit).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    let driver = tokio::spawn(conn);
    let mut request = hyper::Request::get(path)
        .header(hyper::header::HOST, addr)
        .header(hyper::header::USER_AGENT, USER_AGENT)
        .header(hyper::header::ACCEPT, "*/*")
        .header(hyper::header::CONNECTION, "close");
    for (name, value) in headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let request = request
        .body(Empty::<Bytes>::new())
        .map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string());
    driver.abort();
    Ok(response?.status().as_u16())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubelet::runtime::sim::SimRuntime;

    fn probe(json: serde_json::Value) -> Probe {
        serde_json::from_value(json).unwrap()
    }

    fn container() -> Container {
        serde_json::from_value(serde_json::json!({
            "name": "web", "ports": [{"name": "http", "containerPort": 1}]
        }))
        .unwrap()
    }

    async fn serve(status: u16) -> u16 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            loop {
                let Ok((mut s, _)) = listener.accept().await else {
                    return;
                };
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut buf = vec![0u8; 4096];
                let n = s.read(&mut buf).await.unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]).to_string();
                let ok = req.starts_with("GET /healthz ")
                    && req.contains("user-agent: kube-probe/1.32")
                    && req.contains("x-probe: yes");
                let code = if ok { status } else { 400 };
                let _ = s
                    .write_all(
                        format!(
                            "HTTP/1.1 {code} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                        )
                        .as_bytes(),
                    )
                    .await;
            }
        });
        port
    }

    #[tokio::test]
    async fn http_get_succeeds_on_2xx_3xx_and_says_the_status_otherwise() {
        let rt = SimRuntime::default();
        let target = Target {
            container_id: "c".into(),
            pod_ip: "127.0.0.1".into(),
        };
        for (status, outcome) in [
            (200, Outcome::Success),
            (302, Outcome::Success),
            (503, Outcome::Failure),
        ] {
            let port = serve(status).await;
            let p = probe(serde_json::json!({"httpGet": {
                "path": "/healthz", "port": port,
                "httpHeaders": [{"name": "X-Probe", "value": "yes"}]
            }}));
            let (got, message) = check(&p, &container(), &target, &rt).await;
            assert_eq!(got, outcome, "{status}: {message}");
            if outcome == Outcome::Failure {
                assert_eq!(message, "HTTP probe failed with statuscode: 503");
            }
        }
    }

    #[tokio::test]
    async fn tcp_socket_succeeds_on_connect_and_says_refused() {
        let rt = SimRuntime::default();
        let target = Target {
            container_id: "c".into(),
            pod_ip: "127.0.0.1".into(),
        };
        let port = serve(200).await;
        let p = probe(serde_json::json!({"tcpSocket": {"port": port}}));
        assert_eq!(
            check(&p, &container(), &target, &rt).await.0,
            Outcome::Success
        );
        // A port nothing listens on (bound, then closed).
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let p = probe(serde_json::json!({"tcpSocket": {"port": closed}}));
        let (got, message) = check(&p, &container(), &target, &rt).await;
        assert_eq!(got, Outcome::Failure);
        assert_eq!(
            message,
            format!("dial tcp 127.0.0.1:{closed}: connect: connection refused")
        );
        // A named port the container does not have.
        let p = probe(serde_json::json!({"tcpSocket": {"port": "metrics"}}));
        assert_eq!(
            check(&p, &container(), &target, &rt).await.1,
            "couldn't find port: metrics in web"
        );
    }
}
