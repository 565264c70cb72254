//! The create ↔ init synchronisation channel: a SOCK_SEQPACKET socketpair, one message per
//! packet, a one-byte tag followed by a payload. Errors travel from init to create as text.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use nix::sys::socket::{recv, send, socketpair, AddressFamily, MsgFlags, SockFlag, SockType};

use crate::sys::Errno;

/// Largest message: state JSON for hooks fits well below this.
const MAX_MSG: usize = 256 * 1024;

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
    /// child → parent: set up and about to block on the exec fifo.
    Ready,
    /// either way: failure with a human-readable message.
    Error(String),
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
            Msg::Error(s) => {
                v.push(b'E');
                v.extend_from_slice(s.as_bytes());
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
            b'E' => Msg::Error(String::from_utf8_lossy(rest).into_owned()),
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

impl Channel {
    pub fn send(&self, m: &Msg) -> Result<(), Errno> {
        let data = m.encode();
        loop {
            match send(self.fd.as_raw_fd(), &data, MsgFlags::MSG_NOSIGNAL) {
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(e),
                Ok(_) => return Ok(()),
            }
        }
    }

    /// The next message; `Ok(None)` when the peer closed its end.
    pub fn recv(&self) -> Result<Option<Msg>, Errno> {
        let mut buf = vec![0u8; MAX_MSG];
        loop {
            match recv(self.fd.as_raw_fd(), &mut buf, MsgFlags::empty()) {
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(e),
                Ok(0) => return Ok(None),
                Ok(n) => return Msg::decode(&buf[..n]).map(Some).ok_or(Errno::EBADMSG),
            }
        }
    }

    pub fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.fd.as_fd()
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
            Msg::Ready,
            Msg::Error("mounting proc: permission denied".into()),
        ];
        for m in &msgs {
            a.send(m).unwrap();
            assert_eq!(b.recv().unwrap().as_ref(), Some(m));
        }
        drop(a);
        assert_eq!(b.recv().unwrap(), None);
    }
}
