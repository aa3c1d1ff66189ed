//! `/api/v1/namespaces/{ns}/pods/{name}/exec`: kubectl 1.32 asks for a WebSocket upgrade with
//! the `v5.channel.k8s.io` subprotocol (`v4.channel.k8s.io` is accepted too). kube-apiserver
//! checks the pod and container and proxies to the pod's kubelet; kubox asks that kubelet
//! in-process. Each binary message is a channel byte and a payload: 0 stdin, 1 stdout,
//! 2 stderr, 3 the final `Status`, 4 terminal size; v5 adds `[255, channel]`, the client's
//! end of a stream. SPDY (kubectl's fallback) is refused with a Status saying so.

use std::sync::Arc;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

use super::HttpState;
use super::response;
use crate::api::error::ApiError;
use crate::kubelet::exec::ExecTarget;
use crate::kubelet::logs::container_to_use;
use crate::kubelet::run::Kubelet;
use crate::kubelet::runtime::exec::{ExecOutput, ExecRequest};
use crate::trace::{Actor, StepDraft};

/// The subprotocols served, preferred first.
pub const PROTOCOLS: [&str; 2] = ["v5.channel.k8s.io", "v4.channel.k8s.io"];

const STDIN: u8 = 0;
const STDOUT: u8 = 1;
const STDERR: u8 = 2;
const ERROR: u8 = 3;
const RESIZE: u8 = 4;
/// v5: `[255, channel]` closes the client's side of a channel.
const CLOSE: u8 = 255;

/// The `PodExecOptions` of the query (`command` repeats, one per word).
pub fn exec_request(raw_query: &str) -> (ExecRequest, Option<String>) {
    let mut request = ExecRequest::default();
    let mut container = None;
    for (key, value) in form_urlencoded::parse(raw_query.as_bytes()) {
        let on = matches!(value.as_ref(), "true" | "1");
        match key.as_ref() {
            "command" => request.command.push(value.into_owned()),
            "container" => container = Some(value.into_owned()),
            "stdin" => request.stdin = on,
            "stdout" => request.stdout = on,
            "stderr" => request.stderr = on,
            "tty" => request.tty = on,
            _ => {}
        }
    }
    (request, container)
}

/// The kubelet's refusal, as its HTTP server writes it: plain text, 500. kubectl prints
/// `error: unable to upgrade connection: <text>`.
fn kubelet_error(text: &str) -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text.to_string(),
    )
        .into_response()
}

pub async fn pod_exec(
    st: &HttpState,
    method: &Method,
    headers: &HeaderMap,
    (namespace, name): (&str, &str),
    raw_query: &str,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    if method != Method::GET && method != Method::POST {
        return response::error(&ApiError::method_not_allowed());
    }
    let (request, container) = exec_request(raw_query);
    let checked = async {
        let pod: Pod = st.api.get(Some(namespace), name)?;
        let container = container_to_use(&pod, container.as_deref())?;
        let kubelet = crate::kubelet::logs::node_kubelet(&st.kubelets, &pod)?;
        Ok::<_, ApiError>((pod, container, kubelet))
    };
    let (pod, container, kubelet) = match checked.await {
        Ok(found) => found,
        Err(e) => return response::error(&e),
    };
    if request.command.is_empty() {
        return kubelet_error("you must specify at least 1 command");
    }
    if !(request.stdin || request.stdout || request.stderr) {
        return kubelet_error("you must specify at least 1 of stdin, stdout, stderr");
    }
    let target = match kubelet.exec_target(&pod, &container).await {
        Ok(target) => target,
        Err(text) => return kubelet_error(&text),
    };
    let ws = match ws {
        Ok(ws) => ws.protocols(PROTOCOLS),
        Err(_) => {
            let asked = headers
                .get(header::UPGRADE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("no upgrade");
            return response::error(&ApiError::bad_request(format!(
                "kubox serves exec over WebSocket only (subprotocol {}); this request asked for \
                 {asked:?}",
                PROTOCOLS.join(" or ")
            )));
        }
    };
    let Some(protocol) = ws.selected_protocol().and_then(|p| p.to_str().ok()) else {
        let offered = headers
            .get(header::SEC_WEBSOCKET_PROTOCOL)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        return response::error(&ApiError::bad_request(format!(
            "unable to upgrade: unable to negotiate protocol: client supports [{offered}], \
             server supports [{}]",
            PROTOCOLS.join(" ")
        )));
    };
    let v5 = protocol == PROTOCOLS[0];
    let caller = super::request::caller_actor(headers);
    st.api.trace().record(|| {
        StepDraft::new(
            caller,
            Actor::ApiServer,
            &target.pod_key,
            format!("exec {name} -- {}", request.command.join(" ")),
        )
    });
    st.api.trace().record(|| {
        StepDraft::new(
            Actor::ApiServer,
            kubelet.actor(),
            &target.pod_key,
            format!("exec {container}"),
        )
    });
    ws.on_upgrade(move |socket| session(socket, v5, kubelet, target, request))
}

/// The final Status on channel 3, as the kubelet's remotecommand server writes it.
pub fn exit_status(command: &[String], exit_code: i64) -> serde_json::Value {
    if exit_code == 0 {
        return serde_json::json!({"metadata": {}, "status": "Success"});
    }
    serde_json::json!({
        "metadata": {},
        "status": "Failure",
        "message": format!(
            "command terminated with non-zero exit code: error executing command [{}], exit code {exit_code}",
            command.join(" ")
        ),
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": exit_code.to_string()}]},
    })
}

fn internal_status(message: &str) -> serde_json::Value {
    serde_json::json!({
        "metadata": {},
        "status": "Failure",
        "message": format!("error executing command in container: {message}"),
        "reason": "InternalError",
        "code": 500,
        "details": {"causes": [{"message": format!("error executing command in container: {message}")}]},
    })
}

fn frame(channel: u8, payload: &[u8]) -> Message {
    let mut data = Vec::with_capacity(payload.len() + 1);
    data.push(channel);
    data.extend_from_slice(payload);
    Message::Binary(Bytes::from(data))
}

/// What the client sent, decoded.
enum Incoming {
    Stdin(Bytes),
    CloseStdin,
    Resize(u16, u16),
    Gone,
    Ignore,
}

fn decode(message: Option<Result<Message, axum::Error>>, v5: bool) -> Incoming {
    match message {
        Some(Ok(Message::Binary(data))) => match data.first() {
            Some(&STDIN) => Incoming::Stdin(data.slice(1..)),
            Some(&CLOSE) if v5 && data.get(1) == Some(&STDIN) => Incoming::CloseStdin,
            Some(&RESIZE) => {
                #[derive(serde::Deserialize)]
                #[serde(rename_all = "PascalCase")]
                struct Size {
                    width: u16,
                    height: u16,
                }
                match serde_json::from_slice::<Size>(&data[1..]) {
                    Ok(s) => Incoming::Resize(s.width, s.height),
                    Err(_) => Incoming::Ignore,
                }
            }
            _ => Incoming::Ignore,
        },
        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => Incoming::Gone,
        Some(Ok(_)) => Incoming::Ignore,
    }
}

async fn session(
    socket: WebSocket,
    v5: bool,
    kubelet: Arc<Kubelet>,
    target: ExecTarget,
    request: ExecRequest,
) {
    let (mut tx, mut rx) = socket.split();
    let mut exec = match kubelet.exec(&target, &request).await {
        Ok(exec) => exec,
        Err(e) => {
            let status = internal_status(&e);
            let _ = tx.send(frame(ERROR, status.to_string().as_bytes())).await;
            let _ = tx.close().await;
            return;
        }
    };
    // Stdin is written by its own task, so a command that does not read cannot stall output.
    let mut stdin_tx = exec.stdin.take().map(|mut stdin| {
        let (stdin_tx, mut stdin_rx) = mpsc::channel::<Bytes>(16);
        tokio::spawn(async move {
            while let Some(data) = stdin_rx.recv().await {
                if stdin.write_all(&data).await.is_err() {
                    return;
                }
            }
            // The sender was dropped: end of input.
            let _ = stdin.shutdown().await;
        });
        stdin_tx
    });
    let outcome = loop {
        tokio::select! {
            chunk = exec.output.next() => match chunk {
                Some(Ok(ExecOutput::Stdout(b))) if request.stdout || request.tty => {
                    if tx.send(frame(STDOUT, &b)).await.is_err() { return; }
                }
                Some(Ok(ExecOutput::Stderr(b))) if request.stderr => {
                    if tx.send(frame(STDERR, &b)).await.is_err() { return; }
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => break Err(e.to_string()),
                None => break exec.control.exit_code().await.map_err(|e| e.to_string()),
            },
            message = rx.next() => match decode(message, v5) {
                Incoming::Stdin(data) => {
                    if let Some(stdin) = &stdin_tx {
                        let _ = stdin.send(data).await;
                    }
                }
                Incoming::CloseStdin => stdin_tx = None,
                Incoming::Resize(w, h) => { let _ = exec.control.resize(w, h).await; }
                // The client went away: nobody is left to read the output.
                Incoming::Gone => return,
                Incoming::Ignore => {}
            },
        }
    };
    let status = match &outcome {
        Ok(code) => exit_status(&request.command, *code),
        Err(e) => internal_status(e),
    };
    let _ = tx.send(frame(ERROR, status.to_string().as_bytes())).await;
    let _ = tx
        .send(Message::Close(Some(CloseFrame {
            code: close_code::NORMAL,
            reason: "".into(),
        })))
        .await;
    let _ = tx.close().await;
    if let Ok(code) = outcome {
        kubelet.trace.record(|| {
            StepDraft::new(
                Actor::Docker,
                kubelet.actor(),
                &target.pod_key,
                format!("exec in {} ended: exit code {code}", target.container),
            )
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_keeps_every_command_word_in_order() {
        let (r, c) = exec_request(
            "command=sh&command=-c&command=echo+hi&container=main&stdin=true&stdout=true&tty=1",
        );
        assert_eq!(r.command, ["sh", "-c", "echo hi"]);
        assert_eq!(c.as_deref(), Some("main"));
        assert!(r.stdin && r.stdout && r.tty && !r.stderr);
    }

    #[test]
    fn the_final_status_carries_the_exit_code_as_kubectl_reads_it() {
        assert_eq!(exit_status(&[], 0)["status"], "Success");
        let s = exit_status(&["sh".into(), "-c".into(), "exit 3".into()], 3);
        assert_eq!(s["reason"], "NonZeroExitCode");
        assert_eq!(s["details"]["causes"][0]["reason"], "ExitCode");
        assert_eq!(s["details"]["causes"][0]["message"], "3");
        assert_eq!(
            s["message"],
            "command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3"
        );
    }

    #[test]
    fn client_frames_decode_to_stdin_close_and_resize() {
        let bin = |b: &[u8]| Some(Ok(Message::Binary(Bytes::copy_from_slice(b))));
        assert!(matches!(decode(bin(b"\x00hi"), true), Incoming::Stdin(d) if d == "hi"));
        assert!(matches!(decode(bin(&[255, 0]), true), Incoming::CloseStdin));
        // v4 has no close signal.
        assert!(matches!(decode(bin(&[255, 0]), false), Incoming::Ignore));
        assert!(matches!(
            decode(bin(b"\x04{\"Width\":120,\"Height\":30}"), true),
            Incoming::Resize(120, 30)
        ));
        assert!(matches!(decode(None, true), Incoming::Gone));
    }
}
