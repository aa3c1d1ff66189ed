//! A command run inside a running container — what `kubectl exec`, exec probes and exec
//! lifecycle hooks ask of the runtime (CRI's `Exec`, Docker's exec instances).

use std::pin::Pin;

use bytes::Bytes;
use futures::stream::BoxStream;
use tokio::io::AsyncWrite;

use super::RuntimeResult;

/// What to run, and which streams to attach.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecRequest {
    pub command: Vec<String>,
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    /// A terminal: stdout and stderr arrive merged on stdout, and the size can change.
    pub tty: bool,
}

/// A chunk of the command's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecOutput {
    Stdout(Bytes),
    Stderr(Bytes),
}

/// The command's end and terminal size, asked of the runtime after the output ends.
#[async_trait::async_trait]
pub trait ExecControl: Send + Sync {
    /// The exit code, once the output stream has ended.
    async fn exit_code(&self) -> RuntimeResult<i64>;
    /// The terminal's new size (only meaningful with `tty`).
    async fn resize(&self, width: u16, height: u16) -> RuntimeResult<()>;
}

/// A started command.
pub struct ExecSession {
    /// The command's standard input when it was asked for; shutting it down is end of input.
    pub stdin: Option<Pin<Box<dyn AsyncWrite + Send>>>,
    /// Its output, until the command ends.
    pub output: BoxStream<'static, RuntimeResult<ExecOutput>>,
    pub control: Box<dyn ExecControl>,
}

impl std::fmt::Debug for ExecSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecSession")
            .field("stdin", &self.stdin.is_some())
            .finish_non_exhaustive()
    }
}

/// What a command printed and how it ended, collected (for probes and hooks).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecResult {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub exit_code: i64,
}

impl ExecSession {
    /// Reads the whole output (stdin, if any, is closed first), then the exit code.
    pub async fn collect(mut self) -> RuntimeResult<ExecResult> {
        use futures::StreamExt;
        use tokio::io::AsyncWriteExt;
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.shutdown().await;
        }
        let mut result = ExecResult::default();
        while let Some(chunk) = self.output.next().await {
            match chunk? {
                ExecOutput::Stdout(b) => result.stdout.extend_from_slice(&b),
                ExecOutput::Stderr(b) => result.stderr.extend_from_slice(&b),
            }
        }
        result.exit_code = self.control.exit_code().await?;
        Ok(result)
    }
}
