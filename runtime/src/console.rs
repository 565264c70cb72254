//! The console (config.md#process `terminal`): a pseudo-terminal whose master end goes
//! to the caller through `--console-socket`.
//!
//! The protocol engines expect (runc's): connect to the AF_UNIX stream socket, send one
//! message whose payload is non-empty (the pty's name) and whose SCM_RIGHTS control
//! message carries exactly the master fd.

use std::io::{self, IoSlice};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
use rustix::pty::OpenptFlags;

/// Errors setting up the console.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// The console socket cannot be connected to.
    #[error("connecting to console socket {}: {source}", path.display())]
    Connect {
        /// The socket.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The pseudo-terminal cannot be made or set up.
    #[error("creating a pseudo-terminal: {what}: {source}")]
    Pty {
        /// The step.
        what: &'static str,
        /// Why.
        source: io::Error,
    },
    /// The master cannot be sent over the console socket.
    #[error("sending the terminal master to the console socket: {0}")]
    Send(io::Error),
    /// The master did not arrive.
    #[error("receiving the terminal master: {0}")]
    Receive(io::Error),
}

/// A pseudo-terminal pair. `name` is the path of the slave (e.g. `/dev/pts/3`).
#[derive(Debug)]
pub struct Pty {
    pub master: OwnedFd,
    pub slave: OwnedFd,
    pub name: String,
}

/// Connects to the `--console-socket`.
pub fn connect(socket: &Path) -> Result<UnixStream, ConsoleError> {
    UnixStream::connect(socket).map_err(|source| ConsoleError::Connect {
        path: socket.to_path_buf(),
        source,
    })
}

/// Opens a new pty through `/dev/ptmx` of the current mount namespace (inside the
/// container after its /dev is set up, so the slave belongs to the container's devpts).
/// Both fds are close-on-exec; the caller dups the slave onto stdio.
pub fn open_pty() -> Result<Pty, ConsoleError> {
    let pty = |what| {
        move |e: rustix::io::Errno| ConsoleError::Pty {
            what,
            source: e.into(),
        }
    };
    let master =
        rustix::pty::openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)
            .map_err(pty("opening /dev/ptmx"))?;
    rustix::pty::grantpt(&master).map_err(pty("grantpt"))?;
    rustix::pty::unlockpt(&master).map_err(pty("unlockpt"))?;
    let name = rustix::pty::ptsname(&master, Vec::new())
        .map_err(pty("ptsname"))?
        .to_string_lossy()
        .into_owned();
    // TIOCGPTPEER opens the slave without a path lookup (immune to what /dev/pts
    // points at); fall back to the name on kernels without it.
    let slave = match rustix::pty::ioctl_tiocgptpeer(
        &master,
        OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC,
    ) {
        Ok(fd) => fd,
        Err(_) => rustix::fs::open(
            name.as_str(),
            rustix::fs::OFlags::RDWR | rustix::fs::OFlags::NOCTTY | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .map_err(pty("opening the pty slave"))?,
    };
    Ok(Pty {
        master,
        slave,
        name,
    })
}

/// Sets the window size of a pty (either end), e.g. to `process.consoleSize`.
pub fn set_size(fd: BorrowedFd, height: u16, width: u16) -> Result<(), ConsoleError> {
    let ws = rustix::termios::Winsize {
        ws_row: height,
        ws_col: width,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    rustix::termios::tcsetwinsize(fd, ws).map_err(|e| ConsoleError::Pty {
        what: "setting the window size",
        source: e.into(),
    })
}

/// Sends the master fd over the console socket: one `sendmsg`, SCM_RIGHTS with the
/// fd, and the pty name as the (non-empty) payload.
pub fn send_master(sock: &UnixStream, master: BorrowedFd, name: &str) -> Result<(), ConsoleError> {
    let payload: &[u8] = if name.is_empty() {
        b"/dev/ptmx"
    } else {
        name.as_bytes()
    };
    let iov = [IoSlice::new(payload)];
    let fds = [master.as_raw_fd()];
    let cmsg = [ControlMessage::ScmRights(&fds)];
    loop {
        match sendmsg::<()>(sock.as_raw_fd(), &iov, &cmsg, MsgFlags::MSG_NOSIGNAL, None) {
            Ok(n) if n == payload.len() => return Ok(()),
            Ok(n) => {
                return Err(ConsoleError::Send(io::Error::new(
                    io::ErrorKind::WriteZero,
                    format!("only {n} of {} bytes were sent", payload.len()),
                )))
            }
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(ConsoleError::Send(e.into())),
        }
    }
}

/// Receives a pty master sent with [`send_master`] to `listener` (by a sender that has
/// already sent it: the listener is not waited on).
pub fn recv_master(listener: &std::os::unix::net::UnixListener) -> Result<OwnedFd, ConsoleError> {
    use nix::sys::socket::{recvmsg, ControlMessageOwned};
    use std::os::fd::FromRawFd;
    let recv_err = |e: io::Error| ConsoleError::Receive(e);
    listener.set_nonblocking(true).map_err(recv_err)?;
    let (conn, _) = listener.accept().map_err(|e| {
        if e.kind() == io::ErrorKind::WouldBlock {
            ConsoleError::Receive(io::Error::new(
                io::ErrorKind::NotConnected,
                "the container did not send its terminal",
            ))
        } else {
            ConsoleError::Receive(e)
        }
    })?;
    let mut buf = [0u8; 4096];
    let mut iov = [std::io::IoSliceMut::new(&mut buf)];
    let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let msg = recvmsg::<()>(
        conn.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .map_err(|e| ConsoleError::Receive(e.into()))?;
    let mut fds = Vec::new();
    for c in msg.cmsgs().map_err(|e| ConsoleError::Receive(e.into()))? {
        if let ControlMessageOwned::ScmRights(received) = c {
            fds.extend(received);
        }
    }
    // SAFETY: these fds were just received with SCM_RIGHTS; nothing else owns them.
    let mut owned: Vec<OwnedFd> = fds
        .into_iter()
        .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) })
        .collect();
    if owned.len() != 1 {
        return Err(ConsoleError::Receive(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("expected one fd, got {}", owned.len()),
        )));
    }
    owned
        .pop()
        .ok_or_else(|| ConsoleError::Receive(io::ErrorKind::InvalidData.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::socket::{recvmsg, ControlMessageOwned};
    use std::io::{IoSliceMut, Read, Write};
    use std::os::fd::{AsFd, FromRawFd};
    use std::os::unix::net::UnixListener;

    #[test]
    fn pty_master_arrives_through_the_socket_and_works() {
        let d = tempfile::tempdir().unwrap();
        let sock_path = d.path().join("console.sock");
        let listener = UnixListener::bind(&sock_path).unwrap();
        let pty = open_pty().unwrap();
        assert!(pty.name.starts_with("/dev/pts/"), "{}", pty.name);
        set_size(pty.slave.as_fd(), 30, 100).unwrap();
        let ws = rustix::termios::tcgetwinsize(&pty.master).unwrap();
        assert_eq!((ws.ws_row, ws.ws_col), (30, 100));
        let client = connect(&sock_path).unwrap();
        send_master(&client, pty.master.as_fd(), &pty.name).unwrap();

        let (server, _) = listener.accept().unwrap();
        let mut buf = [0u8; 256];
        let mut iov = [IoSliceMut::new(&mut buf)];
        let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
        let msg = recvmsg::<()>(
            server.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::empty(),
        )
        .unwrap();
        let n = msg.bytes;
        let mut got = None;
        for c in msg.cmsgs().unwrap() {
            if let ControlMessageOwned::ScmRights(fds) = c {
                assert_eq!(fds.len(), 1);
                got = Some(fds[0]);
            }
        }
        assert_eq!(&buf[..n], pty.name.as_bytes());
        // SAFETY: the fd was just received through SCM_RIGHTS and is owned by nobody else.
        let mut master = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(got.unwrap()) });
        // Writing to the slave is readable on the received master.
        let mut slave = std::fs::File::from(pty.slave);
        slave.write_all(b"hi\n").unwrap();
        let mut out = [0u8; 16];
        let n = master.read(&mut out).unwrap();
        assert!(String::from_utf8_lossy(&out[..n]).starts_with("hi"));
    }

    #[test]
    fn connect_to_missing_socket_names_it() {
        let err = connect(Path::new("/nonexistent/sock")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/sock"));
    }
}
