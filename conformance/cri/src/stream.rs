//! The streaming server's exec session over WebSocket, subprotocol `v4.channel.k8s.io`:
//! every binary message starts with its channel (0 stdin, 1 stdout, 2 stderr, 3 the
//! final status as JSON, 4 terminal size as JSON); the server closes when the process ends.

use std::net::TcpStream;
use std::time::{Duration, Instant};

use tungstenite::client::IntoClientRequest;
use tungstenite::Message;

use crate::Error;

const STDIN: u8 = 0;
const STDOUT: u8 = 1;
const STDERR: u8 = 2;
const STATUS: u8 = 3;
const RESIZE: u8 = 4;

/// What an exec session brought back.
#[derive(Debug, Default)]
pub struct ExecOutput {
    /// Channel 1 (with a tty: everything the terminal showed).
    pub stdout: Vec<u8>,
    /// Channel 2.
    pub stderr: Vec<u8>,
    /// The exit code from the final status (0 for "Success").
    pub exit_code: Option<i32>,
    /// The final status as the server sent it.
    pub status: String,
}

/// Runs the exec session at `url` (from `Exec`): sends `size` (columns, rows) when given,
/// then `stdin`, and collects the output until the server ends the session or `timeout`.
pub fn exec(
    url: &str,
    size: Option<(u16, u16)>,
    stdin: &[u8],
    timeout: Duration,
) -> Result<ExecOutput, Error> {
    let fail = |message: String| Error::Stream {
        url: url.to_owned(),
        message,
    };
    let ws_url = url
        .strip_prefix("http://")
        .map(|rest| format!("ws://{rest}"))
        .ok_or_else(|| fail("not an http:// URL".into()))?;
    let mut request = ws_url
        .as_str()
        .into_client_request()
        .map_err(|e| fail(e.to_string()))?;
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        tungstenite::http::HeaderValue::from_static("v4.channel.k8s.io"),
    );
    let host = request
        .uri()
        .authority()
        .map(|a| a.as_str().to_owned())
        .ok_or_else(|| fail("no host in URL".into()))?;
    let tcp = TcpStream::connect(&host).map_err(|e| fail(format!("connect {host}: {e}")))?;
    tcp.set_read_timeout(Some(Duration::from_millis(200)))
        .map_err(|e| fail(e.to_string()))?;
    let (mut ws, _) = tungstenite::client(request, tcp).map_err(|e| fail(e.to_string()))?;
    let mut send = |channel: u8, data: &[u8]| {
        let mut frame = vec![channel];
        frame.extend_from_slice(data);
        ws.send(Message::Binary(frame.into()))
            .map_err(|e| fail(e.to_string()))
    };
    if let Some((width, height)) = size {
        let json = serde_json::json!({"Width": width, "Height": height}).to_string();
        send(RESIZE, json.as_bytes())?;
    }
    if !stdin.is_empty() {
        send(STDIN, stdin)?;
    }
    let mut out = ExecOutput::default();
    let deadline = Instant::now() + timeout;
    loop {
        if Instant::now() > deadline {
            return Err(fail(format!(
                "no end of session within {timeout:?}; so far stdout {:?}, stderr {:?}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        match ws.read() {
            Ok(Message::Binary(data)) => match data.split_first() {
                Some((&STDOUT, rest)) => out.stdout.extend_from_slice(rest),
                Some((&STDERR, rest)) => out.stderr.extend_from_slice(rest),
                Some((&STATUS, rest)) if !rest.is_empty() => {
                    out.status = String::from_utf8_lossy(rest).into_owned();
                    out.exit_code = exit_code(&out.status);
                }
                _ => {}
            },
            Ok(Message::Close(_)) => {}
            Ok(_) => {}
            Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {
                return Ok(out)
            }
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(tungstenite::Error::Protocol(
                tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
            )) => return Ok(out),
            Err(e) => return Err(fail(e.to_string())),
        }
    }
}

/// The exit code in a final status: 0 for `"status":"Success"`, the `ExitCode` cause of a
/// `NonZeroExitCode` failure, None for any other failure.
fn exit_code(status: &str) -> Option<i32> {
    let v: serde_json::Value = serde_json::from_str(status).ok()?;
    if v["status"] == "Success" {
        return Some(0);
    }
    v["details"]["causes"]
        .as_array()?
        .iter()
        .find(|c| c["reason"] == "ExitCode")?["message"]
        .as_str()?
        .parse()
        .ok()
}
