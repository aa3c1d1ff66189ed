//! What `exec` can run in a simulated container. No process runs there, so the simulator
//! answers a handful of commands itself — enough for `kubectl exec`, exec probes and hooks in
//! lessons without a daemon — and says plainly that anything else cannot run.

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use tokio::io::AsyncReadExt;

use super::RuntimeResult;
use super::exec::{ExecControl, ExecOutput, ExecRequest, ExecSession};

/// The commands the simulator answers.
pub const KNOWN: &str = "echo, cat, true, false, exit N, sleep N, hostname, sh -c '<one of these>'";

/// Splits a `sh -c` script into words: whitespace separates, single and double quotes group.
fn words(script: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut started = false;
    for ch in script.chars() {
        match (quote, ch) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(ch);
                started = true;
            }
            (None, c) if c.is_whitespace() => {
                if started || !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
                started = false;
            }
            (None, c) => word.push(c),
        }
    }
    if started || !word.is_empty() {
        out.push(word);
    }
    out
}

/// What one command does: output now, then an exit code (after `delay`), or stdin echoed.
#[derive(Debug, PartialEq)]
enum Plan {
    Print {
        stdout: String,
        stderr: String,
        code: i64,
        delay: Duration,
    },
    Cat,
}

fn print(stdout: impl Into<String>, code: i64) -> Plan {
    Plan::Print {
        stdout: stdout.into(),
        stderr: String::new(),
        code,
        delay: Duration::ZERO,
    }
}

fn plan(command: &[String], hostname: &str) -> Plan {
    let args = &command[1.min(command.len())..];
    match command.first().map(|c| c.rsplit('/').next().unwrap_or(c)) {
        Some("echo") => print(format!("{}\n", args.join(" ")), 0),
        Some("true") => print("", 0),
        Some("false") => print("", 1),
        Some("hostname") => print(format!("{hostname}\n"), 0),
        Some("cat") if args.is_empty() => Plan::Cat,
        Some("exit") => match args.first().map(|a| a.parse::<i64>()) {
            None => print("", 0),
            Some(Ok(code)) => print("", code & 0xff),
            Some(Err(_)) => Plan::Print {
                stdout: String::new(),
                stderr: format!("sh: exit: Illegal number: {}\n", args[0]),
                code: 2,
                delay: Duration::ZERO,
            },
        },
        Some("sleep") => match args.first().and_then(|a| a.parse::<f64>().ok()) {
            Some(secs) if secs >= 0.0 => Plan::Print {
                stdout: String::new(),
                stderr: String::new(),
                code: 0,
                delay: Duration::from_secs_f64(secs),
            },
            _ => Plan::Print {
                stdout: String::new(),
                stderr: "sleep: invalid number\n".into(),
                code: 1,
                delay: Duration::ZERO,
            },
        },
        Some("sh" | "bash") if args.len() >= 2 && args[0] == "-c" => {
            plan(&words(&args[1]), hostname)
        }
        Some(other) => Plan::Print {
            stdout: String::new(),
            stderr: format!(
                "kubox simulated runtime: {other:?} cannot run: simulated containers run no \
                 processes; exec answers only {KNOWN}\n"
            ),
            code: 127,
            delay: Duration::ZERO,
        },
        None => Plan::Print {
            stdout: String::new(),
            stderr: "kubox simulated runtime: no command given\n".into(),
            code: 127,
            delay: Duration::ZERO,
        },
    }
}

struct Ended(i64);

#[async_trait::async_trait]
impl ExecControl for Ended {
    async fn exit_code(&self) -> RuntimeResult<i64> {
        Ok(self.0)
    }

    async fn resize(&self, _width: u16, _height: u16) -> RuntimeResult<()> {
        Ok(())
    }
}

/// Runs `request` in a simulated container whose hostname is `hostname`.
pub fn exec(request: &ExecRequest, hostname: &str) -> ExecSession {
    let (stdin, output, code): (_, BoxStream<'static, RuntimeResult<ExecOutput>>, i64) =
        match plan(&request.command, hostname) {
            Plan::Print {
                stdout,
                stderr,
                code,
                delay,
            } => {
                let mut chunks = Vec::new();
                if request.stdout && !stdout.is_empty() {
                    chunks.push(Ok(ExecOutput::Stdout(Bytes::from(stdout))));
                }
                if !stderr.is_empty() {
                    // With a terminal, stderr arrives on the one stream, as Docker sends it.
                    match (request.tty, request.stderr) {
                        (true, _) => chunks.push(Ok(ExecOutput::Stdout(Bytes::from(stderr)))),
                        (false, true) => chunks.push(Ok(ExecOutput::Stderr(Bytes::from(stderr)))),
                        (false, false) => {}
                    }
                }
                let output = futures::stream::iter(chunks)
                    .chain(
                        futures::stream::once(tokio::time::sleep(delay))
                            .filter_map(|()| async { None }),
                    )
                    .boxed();
                (None, output, code)
            }
            Plan::Cat => {
                let (writer, reader) = tokio::io::duplex(64 * 1024);
                let echo = request.stdout;
                let output = futures::stream::unfold(reader, move |mut reader| async move {
                    let mut buf = vec![0u8; 8192];
                    match reader.read(&mut buf).await {
                        Ok(0) | Err(_) => None,
                        Ok(n) => {
                            buf.truncate(n);
                            Some((Ok(ExecOutput::Stdout(Bytes::from(buf))), reader))
                        }
                    }
                })
                .filter(move |_| futures::future::ready(echo))
                .boxed();
                let stdin: Option<std::pin::Pin<Box<dyn tokio::io::AsyncWrite + Send>>> =
                    Some(Box::pin(writer));
                (stdin.filter(|_| request.stdin), output, 0)
            }
        };
    ExecSession {
        stdin,
        output,
        control: Box::new(Ended(code)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(cmd: &[&str]) -> ExecRequest {
        ExecRequest {
            command: cmd.iter().map(|s| s.to_string()).collect(),
            stdin: false,
            stdout: true,
            stderr: true,
            tty: false,
        }
    }

    #[test]
    fn sh_c_scripts_split_into_words_with_quotes() {
        assert_eq!(words("echo 'a b'  c"), vec!["echo", "a b", "c"]);
        assert_eq!(words("exit 3"), vec!["exit", "3"]);
        assert_eq!(words("echo \"\""), vec!["echo", ""]);
        assert_eq!(
            plan(&run(&["sh", "-c", "exit 3"]).command, "h"),
            print("", 3)
        );
        assert_eq!(
            plan(&run(&["/bin/echo", "hi", "there"]).command, "h"),
            print("hi there\n", 0)
        );
    }

    #[tokio::test]
    async fn known_commands_print_and_exit_and_unknown_ones_say_why() {
        let r = exec(&run(&["echo", "hi"]), "web").collect().await.unwrap();
        assert_eq!((r.stdout.as_slice(), r.exit_code), (&b"hi\n"[..], 0));
        let r = exec(&run(&["hostname"]), "web").collect().await.unwrap();
        assert_eq!(r.stdout, b"web\n");
        let r = exec(&run(&["sh", "-c", "exit 300"]), "web")
            .collect()
            .await
            .unwrap();
        assert_eq!(r.exit_code, 44);
        let r = exec(&run(&["nginx", "-s", "reload"]), "web")
            .collect()
            .await
            .unwrap();
        assert_eq!(r.exit_code, 127);
        let err = String::from_utf8(r.stderr).unwrap();
        assert!(
            err.contains("\"nginx\" cannot run") && err.contains("echo, cat"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn cat_echoes_stdin_until_it_is_closed() {
        use tokio::io::AsyncWriteExt;
        let mut req = run(&["cat"]);
        req.stdin = true;
        let mut session = exec(&req, "web");
        let mut stdin = session.stdin.take().unwrap();
        stdin.write_all(b"one\ntwo\n").await.unwrap();
        stdin.shutdown().await.unwrap();
        let r = session.collect().await.unwrap();
        assert_eq!((r.stdout.as_slice(), r.exit_code), (&b"one\ntwo\n"[..], 0));
    }
}
