//! linux.netDevices (config-linux.md#network-devices): host interfaces moved into the
//! container's network namespace by the init, over rtnetlink. A socket opened while still
//! in the host's namespace does the move; one opened in the container's namespace puts back
//! the interface's permanent global addresses (the kernel drops them on the move) and
//! brings it up.

use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};

use crate::sys::{Context, Errno, SysError};

/// Why an interface could not be moved into the container.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum NetdevError {
    /// A system call or netlink request failed.
    #[error(transparent)]
    Sys(#[from] SysError),
    /// No interface of that name on the host.
    #[error("linux.netDevices: no network interface {0:?} on the host")]
    NoSuchInterface(String),
    /// The container already has an interface of the new name.
    #[error("linux.netDevices: an interface named {0:?} already exists in the container")]
    NameTaken(String),
}

const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;
const NLM_F_DUMP: u16 = 0x300;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const RTM_NEWLINK: u16 = 16;
const RTM_NEWADDR: u16 = 20;
const RTM_GETADDR: u16 = 22;
const IFLA_IFNAME: u16 = 3;
const IFLA_NET_NS_FD: u16 = 28;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const IFA_BROADCAST: u16 = 4;
const IFA_FLAGS: u16 = 8;
const IFA_F_PERMANENT: u32 = 0x80;
const RT_SCOPE_UNIVERSE: u8 = 0;

pub use crate::plan::NetDevicePlan;

/// An rtnetlink socket in the namespace it was opened in.
pub struct Netlink {
    fd: OwnedFd,
    seq: u32,
}

/// An address to put back after the move.
#[derive(Debug, Clone)]
struct Addr {
    family: u8,
    prefix: u8,
    flags: u8,
    scope: u8,
    attrs: Vec<(u16, Vec<u8>)>,
}

/// What the host side learnt before the move.
pub struct Prepared {
    dev: NetDevicePlan,
    index: u32,
    addrs: Vec<Addr>,
}

fn attr(buf: &mut Vec<u8>, kind: u16, data: &[u8]) {
    let len = 4 + data.len();
    buf.extend_from_slice(&(len as u16).to_ne_bytes());
    buf.extend_from_slice(&kind.to_ne_bytes());
    buf.extend_from_slice(data);
    while !buf.len().is_multiple_of(4) {
        buf.push(0);
    }
}

fn ifinfomsg(index: u32, flags: u32, change: u32) -> Vec<u8> {
    let mut v = vec![0u8; 4]; // family, pad, type
    v.extend_from_slice(&(index as i32).to_ne_bytes());
    v.extend_from_slice(&flags.to_ne_bytes());
    v.extend_from_slice(&change.to_ne_bytes());
    v
}

/// The index of an interface in the caller's network namespace.
pub fn index_of(name: &str) -> Option<u32> {
    let c = CString::new(name).ok()?;
    // SAFETY: if_nametoindex reads a valid NUL-terminated string.
    let i = unsafe { libc::if_nametoindex(c.as_ptr()) };
    (i != 0).then_some(i)
}

impl Netlink {
    /// Opens an rtnetlink socket in the caller's current network namespace.
    pub fn open() -> Result<Netlink, SysError> {
        // SAFETY: plain socket(2).
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_ROUTE,
            )
        };
        if fd < 0 {
            return Err(SysError::new("netlink socket", Errno::last()));
        }
        // SAFETY: the kernel returned a fresh fd that nothing else owns.
        let fd = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
        Ok(Netlink { fd, seq: 0 })
    }

    fn send(&mut self, kind: u16, flags: u16, body: &[u8]) -> Result<u32, Errno> {
        self.seq += 1;
        let mut msg = Vec::with_capacity(16 + body.len());
        msg.extend_from_slice(&((16 + body.len()) as u32).to_ne_bytes());
        msg.extend_from_slice(&kind.to_ne_bytes());
        msg.extend_from_slice(&flags.to_ne_bytes());
        msg.extend_from_slice(&self.seq.to_ne_bytes());
        msg.extend_from_slice(&0u32.to_ne_bytes());
        msg.extend_from_slice(body);
        // SAFETY: sending a valid buffer on our socket (the kernel is the default peer).
        let r = unsafe { libc::send(self.fd.as_raw_fd(), msg.as_ptr().cast(), msg.len(), 0) };
        if r < 0 {
            return Err(Errno::last());
        }
        Ok(self.seq)
    }

    /// Reads replies for `seq` until the ack/done; returns the payloads of other messages.
    fn replies(&mut self, seq: u32) -> Result<Vec<(u16, Vec<u8>)>, Errno> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            // SAFETY: receiving into a buffer we own, with its length.
            let n =
                unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n < 0 {
                let e = Errno::last();
                if e == Errno::EINTR {
                    continue;
                }
                return Err(e);
            }
            let mut off = 0usize;
            let n = n as usize;
            while off + 16 <= n {
                let len =
                    u32::from_ne_bytes(buf[off..off + 4].try_into().unwrap_or([0; 4])) as usize;
                let kind = u16::from_ne_bytes(buf[off + 4..off + 6].try_into().unwrap_or([0; 2]));
                let mseq = u32::from_ne_bytes(buf[off + 8..off + 12].try_into().unwrap_or([0; 4]));
                if len < 16 || off + len > n {
                    return Err(Errno::EBADMSG);
                }
                let payload = buf[off + 16..off + len].to_vec();
                off += (len + 3) & !3;
                if mseq != seq {
                    continue;
                }
                match kind {
                    NLMSG_DONE => return Ok(out),
                    NLMSG_ERROR => {
                        let code = i32::from_ne_bytes(
                            payload
                                .get(..4)
                                .and_then(|b| b.try_into().ok())
                                .unwrap_or([0; 4]),
                        );
                        if code == 0 {
                            return Ok(out);
                        }
                        return Err(Errno::from_raw(-code));
                    }
                    _ => out.push((kind, payload)),
                }
            }
        }
    }

    fn request(
        &mut self,
        kind: u16,
        flags: u16,
        body: &[u8],
    ) -> Result<Vec<(u16, Vec<u8>)>, Errno> {
        let seq = self.send(kind, flags | NLM_F_REQUEST | NLM_F_ACK, body)?;
        self.replies(seq)
    }

    /// The permanent global-scope addresses of an interface.
    fn addresses(&mut self, index: u32) -> Result<Vec<Addr>, Errno> {
        let body = [0u8; 8]; // ifaddrmsg, AF_UNSPEC
        let seq = self.send(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, &body)?;
        let mut out = Vec::new();
        for (kind, p) in self.replies(seq)? {
            if kind != RTM_NEWADDR || p.len() < 8 {
                continue;
            }
            let idx = u32::from_ne_bytes(p[4..8].try_into().unwrap_or([0; 4]));
            if idx != index || p[3] != RT_SCOPE_UNIVERSE {
                continue;
            }
            let mut flags = p[2] as u32;
            let mut attrs = Vec::new();
            let mut off = 8;
            while off + 4 <= p.len() {
                let len = u16::from_ne_bytes([p[off], p[off + 1]]) as usize;
                let t = u16::from_ne_bytes([p[off + 2], p[off + 3]]);
                if len < 4 || off + len > p.len() {
                    break;
                }
                let data = p[off + 4..off + len].to_vec();
                if t == IFA_FLAGS && data.len() >= 4 {
                    flags = u32::from_ne_bytes(data[..4].try_into().unwrap_or([0; 4]));
                }
                if matches!(t, IFA_ADDRESS | IFA_LOCAL | IFA_BROADCAST) {
                    attrs.push((t, data));
                }
                off += (len + 3) & !3;
            }
            if flags & IFA_F_PERMANENT == 0 {
                continue;
            }
            out.push(Addr {
                family: p[0],
                prefix: p[1],
                flags: p[2],
                scope: p[3],
                attrs,
            });
        }
        Ok(out)
    }
}

/// Host side, before the container's network namespace exists or is joined: finds each
/// interface and its addresses.
pub fn prepare(host: &mut Netlink, devs: &[NetDevicePlan]) -> Result<Vec<Prepared>, NetdevError> {
    let mut out = Vec::new();
    for d in devs {
        let index =
            index_of(&d.host).ok_or_else(|| NetdevError::NoSuchInterface(d.host.clone()))?;
        let addrs = host
            .addresses(index)
            .with_ctx(|| format!("reading the addresses of {}", d.host))?;
        out.push(Prepared {
            dev: d.clone(),
            index,
            addrs,
        });
    }
    Ok(out)
}

/// Container side, once the caller is in the container's network namespace: moves each
/// interface in (with its new name), restores its addresses and brings it up.
#[writ_macros::requirement(
    "config_linux.net_devices.available",
    "config_linux.net_devices.check_move",
    "config_linux.net_devices.name_clash",
    "config_linux.net_devices.template",
    "config_linux.net_devices.keep_attributes",
    "config_linux.net_devices.up",
    "config_linux.net_devices.no_management",
    "config_linux.net_devices.no_move_back"
)]
pub fn move_in(host: &mut Netlink, prepared: &[Prepared]) -> Result<(), NetdevError> {
    let ns = rustix::fs::open(
        "/proc/self/ns/net",
        rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .ctx("opening the network namespace")?;
    let mut inside = Netlink::open()?;
    for p in prepared {
        let name = &p.dev.name;
        if !name.contains("%d") && index_of(name).is_some() {
            return Err(NetdevError::NameTaken(name.clone()));
        }
        let mut body = ifinfomsg(p.index, 0, 0);
        attr(
            &mut body,
            IFLA_NET_NS_FD,
            &(ns.as_raw_fd() as u32).to_ne_bytes(),
        );
        let mut cname = name.as_bytes().to_vec();
        cname.push(0);
        attr(&mut body, IFLA_IFNAME, &cname);
        host.request(RTM_NEWLINK, 0, &body)
            .with_ctx(|| format!("moving {} into the container as {name}", p.dev.host))?;
        // The kernel keeps the index when it is free in the new namespace (a fresh one has
        // only lo); otherwise find the interface by its new name.
        let index = if !name.contains("%d") {
            index_of(name).unwrap_or(p.index)
        } else {
            p.index
        };
        for a in &p.addrs {
            let mut body = vec![a.family, a.prefix, a.flags, a.scope];
            body.extend_from_slice(&index.to_ne_bytes());
            for (t, d) in &a.attrs {
                attr(&mut body, *t, d);
            }
            match inside.request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &body) {
                Ok(_) | Err(Errno::EEXIST) => {}
                Err(e) => {
                    return Err(SysError::new(format!("restoring an address of {name}"), e).into())
                }
            }
        }
        let up = libc::IFF_UP as u32;
        inside
            .request(RTM_NEWLINK, 0, &ifinfomsg(index, up, up))
            .with_ctx(|| format!("bringing {name} up"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_addresses_are_read_and_messages_are_aligned() {
        let mut b = Vec::new();
        attr(&mut b, IFLA_IFNAME, b"eth0\0");
        assert_eq!(b.len(), 12);
        assert_eq!(ifinfomsg(3, 1, 1).len(), 16);
        // lo exists everywhere; its 127.0.0.1 has host scope, so nothing global is listed.
        let mut nl = Netlink::open().unwrap();
        let lo = index_of("lo").unwrap();
        let addrs = nl.addresses(lo).unwrap();
        assert!(addrs.iter().all(|a| a.scope == RT_SCOPE_UNIVERSE));
    }
}
