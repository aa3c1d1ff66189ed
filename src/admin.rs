//! The control socket (`DATA_DIR/kubox.sock`): how `kubox backup` reaches a running kubox, since
//! only the process holding the store may read it consistently. One request per connection, one
//! line each way:
//!
//! ```text
//! > backup /abs/path/to/file
//! < ok <revision> <objects>        or        < error <message>
//! ```
//!
//! The socket is a file in the data dir, readable and writable by its owner only.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio_util::sync::CancellationToken;

use crate::store::Store;

pub const SOCKET_FILE: &str = "kubox.sock";

pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join(SOCKET_FILE)
}

/// Binds the socket. The caller holds the data dir lock, so a socket file left there is stale.
pub fn bind(data_dir: &Path) -> std::io::Result<UnixListener> {
    let path = socket_path(data_dir);
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    Ok(listener)
}

pub async fn serve(listener: UnixListener, store: Store, stop: CancellationToken) {
    loop {
        let conn = tokio::select! {
            _ = stop.cancelled() => return,
            conn = listener.accept() => conn,
        };
        match conn {
            Ok((stream, _)) => {
                let store = store.clone();
                tokio::spawn(async move {
                    if let Err(e) = handle(stream, store).await {
                        tracing::warn!(error = %e, "control socket request failed");
                    }
                });
            }
            Err(e) => tracing::warn!(error = %e, "control socket accept failed"),
        }
    }
}

async fn handle(stream: UnixStream, store: Store) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    BufReader::new(read).read_line(&mut line).await?;
    let reply = match line.trim_end().split_once(' ') {
        Some(("backup", path)) => {
            let path = PathBuf::from(path);
            let result = tokio::task::spawn_blocking(move || {
                let rev = store.backup(&path)?;
                let (objects, _) = store.list("/registry/")?;
                Ok::<_, crate::store::StoreError>((rev, objects.len()))
            })
            .await;
            match result {
                Ok(Ok((rev, objects))) => format!("ok {rev} {objects}\n"),
                Ok(Err(e)) => format!("error {e}\n"),
                Err(e) => format!("error {e}\n"),
            }
        }
        _ => format!("error unknown request {:?}\n", line.trim_end()),
    };
    write.write_all(reply.as_bytes()).await?;
    write.shutdown().await
}

/// Client side: asks the kubox running on `data_dir` to back up to `file`.
pub async fn request_backup(data_dir: &Path, file: &Path) -> Result<(u64, u64), String> {
    let path = socket_path(data_dir);
    let stream = UnixStream::connect(&path).await.map_err(|e| {
        format!(
            "kubox is running on {} but its control socket {} does not answer: {e}",
            data_dir.display(),
            path.display()
        )
    })?;
    let (read, mut write) = stream.into_split();
    write
        .write_all(format!("backup {}\n", file.display()).as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut line = String::new();
    BufReader::new(read)
        .read_line(&mut line)
        .await
        .map_err(|e| e.to_string())?;
    let line = line.trim_end();
    if let Some(rest) = line.strip_prefix("ok ") {
        let mut parts = rest.split(' ').map(str::parse::<u64>);
        if let (Some(Ok(rev)), Some(Ok(objects))) = (parts.next(), parts.next()) {
            return Ok((rev, objects));
        }
    }
    Err(line.strip_prefix("error ").unwrap_or(line).to_string())
}
