//! `docker exec`: an exec instance created in the container, started attached, its output
//! demultiplexed into stdout and stderr (or one terminal stream with `tty`), its exit code read
//! from the instance once the output ends.

use std::time::Duration;

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecOptions, StartExecResults};
use bollard::query_parameters::ResizeExecOptions;
use futures::StreamExt;

use super::{container_error, other};
use crate::kubelet::runtime::exec::{ExecControl, ExecOutput, ExecRequest, ExecSession};
use crate::kubelet::runtime::{RuntimeError, RuntimeResult};

/// How long the daemon may take to mark an exec instance ended after its output closed.
const EXIT_WAIT: Duration = Duration::from_secs(2);

pub(super) async fn exec(
    docker: &Docker,
    container: &str,
    request: &ExecRequest,
) -> RuntimeResult<ExecSession> {
    let created = docker
        .create_exec(
            container,
            CreateExecOptions {
                attach_stdin: Some(request.stdin),
                attach_stdout: Some(request.stdout),
                attach_stderr: Some(request.stderr),
                tty: Some(request.tty),
                cmd: Some(request.command.clone()),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| container_error(&e, container))?;
    let started = docker
        .start_exec(
            &created.id,
            Some(StartExecOptions {
                detach: false,
                tty: request.tty,
                output_capacity: None,
            }),
        )
        .await
        .map_err(|e| other(&e))?;
    let StartExecResults::Attached { output, input } = started else {
        return Err(RuntimeError::Other(
            "the daemon started the exec detached".into(),
        ));
    };
    let output = output
        .map(|frame| match frame {
            Ok(LogOutput::StdErr { message }) => Ok(ExecOutput::Stderr(message)),
            Ok(
                LogOutput::StdOut { message }
                | LogOutput::Console { message }
                | LogOutput::StdIn { message },
            ) => Ok(ExecOutput::Stdout(message)),
            Err(e) => Err(other(&e)),
        })
        .boxed();
    Ok(ExecSession {
        stdin: request.stdin.then_some(input),
        output,
        control: Box::new(DockerExec {
            docker: docker.clone(),
            id: created.id,
        }),
    })
}

struct DockerExec {
    docker: Docker,
    id: String,
}

#[async_trait::async_trait]
impl ExecControl for DockerExec {
    async fn exit_code(&self) -> RuntimeResult<i64> {
        let deadline = tokio::time::Instant::now() + EXIT_WAIT;
        loop {
            let inspected = self
                .docker
                .inspect_exec(&self.id)
                .await
                .map_err(|e| other(&e))?;
            match (inspected.running, inspected.exit_code) {
                (Some(false), Some(code)) => return Ok(code),
                _ if tokio::time::Instant::now() >= deadline => {
                    return Err(RuntimeError::Other(format!(
                        "exec {} still running after its output ended",
                        self.id
                    )));
                }
                _ => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    }

    async fn resize(&self, width: u16, height: u16) -> RuntimeResult<()> {
        self.docker
            .resize_exec(
                &self.id,
                ResizeExecOptions {
                    h: i32::from(height),
                    w: i32::from(width),
                },
            )
            .await
            .map_err(|e| other(&e))
    }
}
