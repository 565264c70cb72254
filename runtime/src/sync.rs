//! The channels between `create`, the container's init and `start`: SOCK_SEQPACKET sockets,
//! one message per packet, a one-byte tag followed by a payload, and maybe file
//! descriptors with it (SCM_RIGHTS). A failure of the init travels to the runtime side
//! as data ([`InitError`], JSON).
//!
//! - create ↔ init: a socketpair made before the clone.
//! - start → init: `start` connects to [`EXEC_SOCKET`] in the state directory, a listening
//!   socket create binds before the clone (mode 0600, so only the state directory's owner
//!   can connect). The init accepts one connection once it is set up, answers `Started`,
//!   and keeps the connection open (close-on-exec) until it execs the user program, so
//!   `start` reads until EOF and sees any later failure (a startContainer hook, the exec
//!   itself) as an `Error`. The socket file exists exactly while the container is
//!   `created`: `start` removes it once the init has taken the start.
//!
//! A listening socket is the whole of what the init keeps of the state directory: unlike a
//! directory, fifo or /proc fd it cannot be opened through `/proc/<pid>/fd/N`, and nothing
//! leads from it to a path of the host.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use std::io::{IoSlice, IoSliceMut};

use nix::sys::socket::{
    accept4, bind, connect, listen, recvmsg, sendmsg, socket, socketpair, AddressFamily, Backlog,
    ControlMessage, ControlMessageOwned, MsgFlags, SockFlag, SockType, UnixAddr,
};

use crate::init_error::InitError;
use crate::logging::Level;
use crate::sys::Errno;

pub use crate::state::EXEC_SOCKET;

/// Largest message: state JSON for hooks fits well below this.
const MAX_MSG: usize = 256 * 1024;
/// Most file descriptors one message carries.
pub const MAX_FDS: usize = 8;

/// A message between create (parent) and init (child).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Msg {
    /// parent → child: go on (cgroup joined, id maps written, hooks run).
    Go,
    /// parent → child: the child is in the container's cgroup now.
    Cgroup,
    /// child → parent: write uid/gid maps for this pid (host pid), then answer `Go`.
    NeedMaps(i32),
    /// child → parent: the container process is now this host pid (after a second fork).
    Pid(i32),
    /// child → parent: run prestart/createRuntime hooks, answer with `States`.
    Hooks,
    /// parent → child: state JSON for createContainer (`creating`) and startContainer hooks.
    States(Vec<u8>, Vec<u8>),
    /// child → parent: set up; waits for `Saved`, then for `start`.
    Ready,
    /// parent → child: the state is recorded; stop dying with create (PDEATHSIG).
    Saved,
    /// child → parent: PDEATHSIG cleared; create may exit.
    Detached,
    /// start → init: run the user program.
    Start,
    /// init → start: the start is taken; EOF follows at the exec.
    Started,
    /// init → create/start: a log line of the init (which has no log file of its own).
    Log(Level, String),
    /// init → create/start: its setup failed.
    Error(InitError),
}

impl Msg {
    fn encode(&self) -> Vec<u8> {
        let mut v = Vec::new();
        match self {
            Msg::Go => v.push(b'G'),
            Msg::Cgroup => v.push(b'C'),
            Msg::NeedMaps(p) => {
                v.push(b'M');
                v.extend_from_slice(&p.to_le_bytes());
            }
            Msg::Pid(p) => {
                v.push(b'P');
                v.extend_from_slice(&p.to_le_bytes());
            }
            Msg::Hooks => v.push(b'H'),
            Msg::States(a, b) => {
                v.push(b'S');
                v.extend_from_slice(&(a.len() as u32).to_le_bytes());
                v.extend_from_slice(a);
                v.extend_from_slice(b);
            }
            Msg::Ready => v.push(b'R'),
            Msg::Saved => v.push(b'V'),
            Msg::Detached => v.push(b'D'),
            Msg::Start => v.push(b'T'),
            Msg::Started => v.push(b'U'),
            Msg::Log(level, s) => {
                v.push(b'L');
                v.push(level.as_u8());
                v.extend_from_slice(s.as_bytes());
            }
            Msg::Error(e) => {
                v.push(b'E');
                // Serialising strings and integers cannot fail.
                v.extend_from_slice(&serde_json::to_vec(e).unwrap_or_default());
            }
        }
        v
    }

    fn decode(b: &[u8]) -> Option<Msg> {
        let (&tag, rest) = b.split_first()?;
        let int =
            |r: &[u8]| -> Option<i32> { Some(i32::from_le_bytes(r.get(..4)?.try_into().ok()?)) };
        Some(match tag {
            b'G' => Msg::Go,
            b'C' => Msg::Cgroup,
            b'M' => Msg::NeedMaps(int(rest)?),
            b'P' => Msg::Pid(int(rest)?),
            b'H' => Msg::Hooks,
            b'S' => {
                let n = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?) as usize;
                let a = rest.get(4..4 + n)?.to_vec();
                let b = rest.get(4 + n..)?.to_vec();
                Msg::States(a, b)
            }
            b'R' => Msg::Ready,
            b'V' => Msg::Saved,
            b'D' => Msg::Detached,
            b'T' => Msg::Start,
            b'U' => Msg::Started,
            b'L' => {
                let (&l, text) = rest.split_first()?;
                Msg::Log(
                    Level::from_u8(l)?,
                    String::from_utf8_lossy(text).into_owned(),
                )
            }
            b'E' => Msg::Error(serde_json::from_slice(rest).ok()?),
            _ => return None,
        })
    }
}

/// One end of the channel.
pub struct Channel {
    fd: OwnedFd,
}

/// A fresh pair (parent end, child end); both close-on-exec.
pub fn pair() -> Result<(Channel, Channel), Errno> {
    let (a, b) = socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )?;
    Ok((Channel { fd: a }, Channel { fd: b }))
}

/// Sends one message on a socket (MSG_NOSIGNAL: a gone peer is an error, not SIGPIPE),
/// with `fds` as SCM_RIGHTS (at most [`MAX_FDS`]).
pub fn send_on(fd: RawFd, m: &Msg, fds: &[BorrowedFd]) -> Result<(), Errno> {
    if fds.len() > MAX_FDS {
        return Err(Errno::E2BIG);
    }
    let data = m.encode();
    let iov = [IoSlice::new(&data)];
    let raw: Vec<RawFd> = fds.iter().map(AsRawFd::as_raw_fd).collect();
    let rights = [ControlMessage::ScmRights(&raw)];
    let cmsgs: &[ControlMessage] = if raw.is_empty() { &[] } else { &rights };
    loop {
        match sendmsg::<()>(fd, &iov, cmsgs, MsgFlags::MSG_NOSIGNAL, None) {
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e),
            Ok(_) => return Ok(()),
        }
    }
}

/// Sends a log line of the init as a `Log` message on `fd` (best effort): the
/// `logging::Send` of a diverted log.
pub fn send_log(fd: RawFd, level: Level, msg: &str) {
    let _ = send_on(fd, &Msg::Log(level, msg.to_string()), &[]);
}

impl Channel {
    /// Sends one message.
    pub fn send(&self, m: &Msg) -> Result<(), Errno> {
        send_on(self.fd.as_raw_fd(), m, &[])
    }

    /// Sends one message with file descriptors (SCM_RIGHTS, at most [`MAX_FDS`]).
    pub fn send_with_fds(&self, m: &Msg, fds: &[BorrowedFd]) -> Result<(), Errno> {
        send_on(self.fd.as_raw_fd(), m, fds)
    }

    /// The next message; `Ok(None)` when the peer closed its end. File descriptors sent
    /// with it are closed.
    pub fn recv(&self) -> Result<Option<Msg>, Errno> {
        Ok(self.recv_with_fds()?.map(|(m, _)| m))
    }

    /// The next message and the file descriptors that came with it (close-on-exec);
    /// `Ok(None)` when the peer closed its end.
    pub fn recv_with_fds(&self) -> Result<Option<(Msg, Vec<OwnedFd>)>, Errno> {
        let mut space = nix::cmsg_space!([RawFd; MAX_FDS]);
        // A peer that closed with messages of ours unread leaves ECONNRESET on our end,
        // which a SOCK_SEQPACKET receive reports (and clears) before the messages the
        // peer sent first (its error, typically): read on once to get them.
        let mut reset_seen = false;
        loop {
            // The buffer is as large as the message (MSG_PEEK | MSG_TRUNC tells its length):
            // a MAX_MSG buffer zeroed for every message touched 64 pages.
            let len = match nix::sys::socket::recv(
                self.fd.as_raw_fd(),
                &mut [],
                MsgFlags::MSG_PEEK | MsgFlags::MSG_TRUNC,
            ) {
                Err(Errno::EINTR) => continue,
                Err(Errno::ECONNRESET) if !reset_seen => {
                    reset_seen = true;
                    continue;
                }
                Err(e) => return Err(e),
                Ok(n) => n.clamp(1, MAX_MSG),
            };
            let mut buf = vec![0u8; len];
            let mut fds = Vec::new();
            let n = {
                let mut iov = [IoSliceMut::new(&mut buf)];
                let msg = match recvmsg::<()>(
                    self.fd.as_raw_fd(),
                    &mut iov,
                    Some(&mut space),
                    MsgFlags::MSG_CMSG_CLOEXEC,
                ) {
                    Err(Errno::EINTR) => continue,
                    Err(Errno::ECONNRESET) if !reset_seen => {
                        reset_seen = true;
                        continue;
                    }
                    Err(e) => return Err(e),
                    Ok(msg) => msg,
                };
                for c in msg.cmsgs()? {
                    if let ControlMessageOwned::ScmRights(raw) = c {
                        // SAFETY: the kernel installed these fds for us just now;
                        // nothing else owns them.
                        fds.extend(raw.into_iter().map(|fd| unsafe {
                            <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd)
                        }));
                    }
                }
                msg.bytes
            };
            if n == 0 && fds.is_empty() {
                return Ok(None);
            }
            return Msg::decode(&buf[..n])
                .map(|m| Some((m, fds)))
                .ok_or(Errno::EBADMSG);
        }
    }

    /// The socket.
    pub fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// A socket address for `dir/name`. sun_path holds 107 bytes; a longer path (a long
/// `--root` or id) is reached through `/proc/self/fd/<dirfd>/name`, with `dirfd` an O_PATH
/// fd of `dir` the caller keeps open while it binds or connects.
fn addr_in(dir: &Path, name: &str) -> Result<(UnixAddr, Option<OwnedFd>), Errno> {
    let full = dir.join(name);
    if full.as_os_str().len() < 108 {
        return Ok((UnixAddr::new(&full)?, None));
    }
    let d = rustix::fs::open(
        dir,
        rustix::fs::OFlags::PATH | rustix::fs::OFlags::DIRECTORY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .map_err(|e| Errno::from_raw(e.raw_os_error()))?;
    let short = PathBuf::from(format!("/proc/self/fd/{}/{name}", d.as_raw_fd()));
    Ok((UnixAddr::new(&short)?, Some(d)))
}

fn seqpacket() -> Result<OwnedFd, Errno> {
    socket(
        AddressFamily::Unix,
        SockType::SeqPacket,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
}

/// create: the listening [`EXEC_SOCKET`] in `state_dir` (socket file mode 0600).
pub fn listen_exec(state_dir: &Path) -> Result<OwnedFd, Errno> {
    let sock = seqpacket()?;
    let (addr, _dirfd) = addr_in(state_dir, EXEC_SOCKET)?;
    // The socket file gets 0777 & ~umask: only the owner may connect (and so start).
    let old = rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o177));
    let bound = bind(sock.as_raw_fd(), &addr);
    rustix::process::umask(old);
    bound?;
    listen(&sock, Backlog::new(4).unwrap_or(Backlog::MAXCONN))?;
    Ok(sock)
}

/// init: waits for `start`: accepts connections until one sends `Start`, answers
/// `Started` and returns that connection.
pub fn accept_start(listener: BorrowedFd) -> Result<Channel, Errno> {
    loop {
        let fd = match accept4(listener.as_raw_fd(), SockFlag::SOCK_CLOEXEC) {
            Ok(fd) => fd,
            Err(Errno::EINTR) | Err(Errno::ECONNABORTED) => continue,
            Err(e) => return Err(e),
        };
        let chan = Channel {
            // SAFETY: accept4 returned a fresh fd that nothing else owns.
            fd: unsafe { std::os::fd::FromRawFd::from_raw_fd(fd) },
        };
        if let Ok(Some(Msg::Start)) = chan.recv() {
            if chan.send(&Msg::Started).is_ok() {
                return Ok(chan);
            }
        }
    }
}

/// start: connects to the [`EXEC_SOCKET`] of `state_dir`.
pub fn connect_exec(state_dir: &Path) -> Result<Channel, Errno> {
    let sock = seqpacket()?;
    let (addr, _dirfd) = addr_in(state_dir, EXEC_SOCKET)?;
    loop {
        match connect(sock.as_raw_fd(), &addr) {
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e),
            Ok(()) => return Ok(Channel { fd: sock }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_over_the_pair() {
        let (a, b) = pair().unwrap();
        let msgs = [
            Msg::Go,
            Msg::Cgroup,
            Msg::NeedMaps(42),
            Msg::Pid(-7),
            Msg::Hooks,
            Msg::States(b"{\"a\":1}".to_vec(), b"xyz".to_vec()),
            // Near the largest message: received whole (its buffer is sized by a peek).
            Msg::States(vec![b'x'; 120_000], vec![b'y'; 40_000]),
            Msg::Ready,
            Msg::Saved,
            Msg::Detached,
            Msg::Start,
            Msg::Started,
            Msg::Log(Level::Debug, "hook output".into()),
            Msg::Log(Level::Warn, String::new()),
            Msg::Error(InitError::Sys(crate::sys::SysError::new(
                "mounting proc",
                Errno::EPERM,
            ))),
        ];
        for m in &msgs {
            a.send(m).unwrap();
            assert_eq!(b.recv().unwrap().as_ref(), Some(m));
        }
        drop(a);
        assert_eq!(b.recv().unwrap(), None);
    }

    #[test]
    fn what_a_peer_said_before_it_closed_is_read_even_if_it_left_messages_unread() {
        // The init reports its error and exits while create's next message (`Cgroup`)
        // is still in its queue: the kernel then marks create's end ECONNRESET, which a
        // SOCK_SEQPACKET receive reports before the queued messages.
        let (create, init) = pair().unwrap();
        let err = Msg::Error(InitError::Sys(crate::sys::SysError::new(
            "mounting /mnt/disk",
            Errno::ENOENT,
        )));
        init.send(&Msg::Log(Level::Debug, "joined".into())).unwrap();
        init.send(&err).unwrap();
        create.send(&Msg::Cgroup).unwrap();
        drop(init);
        assert_eq!(
            create.recv().unwrap(),
            Some(Msg::Log(Level::Debug, "joined".into()))
        );
        assert_eq!(create.recv().unwrap(), Some(err));
        assert_eq!(create.recv().unwrap(), None);
        // A reset with nothing queued is the end of the channel.
        let (create, init) = pair().unwrap();
        create.send(&Msg::Cgroup).unwrap();
        drop(init);
        assert_eq!(create.recv().unwrap(), None);
    }

    #[test]
    fn file_descriptors_cross_with_a_message() {
        let (a, b) = pair().unwrap();
        let (r, w) = rustix::pipe::pipe().unwrap();
        a.send_with_fds(&Msg::Pid(7), &[w.as_fd(), r.as_fd()])
            .unwrap();
        drop(w);
        let (m, fds) = b.recv_with_fds().unwrap().unwrap();
        assert_eq!(m, Msg::Pid(7));
        assert_eq!(fds.len(), 2);
        // The write end that arrived is the pipe's: what goes in comes out of `r`.
        rustix::io::write(&fds[0], b"x").unwrap();
        let mut buf = [0u8; 1];
        assert_eq!(rustix::io::read(&r, &mut buf).unwrap(), 1);
        let flags = rustix::io::fcntl_getfd(&fds[1]).unwrap();
        assert!(flags.contains(rustix::io::FdFlags::CLOEXEC));
        // Plain messages carry none; too many are refused.
        a.send(&Msg::Go).unwrap();
        assert!(b.recv_with_fds().unwrap().unwrap().1.is_empty());
        let many = vec![r.as_fd(); MAX_FDS + 1];
        assert_eq!(a.send_with_fds(&Msg::Go, &many), Err(Errno::E2BIG));
    }

    #[test]
    fn start_is_taken_through_the_exec_socket_even_with_a_long_path() {
        let tmp = tempfile::tempdir().unwrap();
        for dir in [tmp.path().to_path_buf(), tmp.path().join("x".repeat(120))] {
            std::fs::create_dir_all(&dir).unwrap();
            let listener = listen_exec(&dir).unwrap();
            let sock = dir.join(EXEC_SOCKET);
            use std::os::unix::fs::{FileTypeExt, PermissionsExt};
            let md = std::fs::metadata(&sock).unwrap();
            assert!(md.file_type().is_socket());
            assert_eq!(md.permissions().mode() & 0o777, 0o600);
            // A connection that sends something else is dropped; the next one is taken.
            let stray = connect_exec(&dir).unwrap();
            stray.send(&Msg::Go).unwrap();
            let start = connect_exec(&dir).unwrap();
            start.send(&Msg::Start).unwrap();
            let init = accept_start(listener.as_fd()).unwrap();
            assert_eq!(stray.recv().unwrap(), None);
            assert_eq!(start.recv().unwrap(), Some(Msg::Started));
            init.send(&Msg::Error(InitError::Refused(
                "startContainer hook failed".into(),
            )))
            .unwrap();
            drop(init);
            assert_eq!(
                start.recv().unwrap(),
                Some(Msg::Error(InitError::Refused(
                    "startContainer hook failed".into()
                )))
            );
            assert_eq!(start.recv().unwrap(), None);
            drop(listener);
            assert_eq!(connect_exec(&dir).err(), Some(Errno::ECONNREFUSED));
        }
    }
}
