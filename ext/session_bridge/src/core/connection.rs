//! One blocking Redis connection: connect with a deadline (name resolution included), handshake,
//! request/reply under one deadline per call, and an [`Interrupt`] that another thread or a
//! signal handler can trigger to make a blocked call return at once (the binding hands it to Ruby
//! as the unblocking function).

use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use redis::{ConnectionAddr, IntoConnectionInfo, Parser, Value};
use rustls::{ClientConnection, StreamOwned};
use socket2::{Domain, Protocol, Socket, Type};

use super::tls::Tls;
use super::Error;

/// Longest accepted connect, read or write timeout: anything longer is a mistake, and deadlines
/// computed from it must not overflow.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(3600);

/// How often a wait that a shutdown cannot wake (name resolution, a connect in progress) looks
/// at the interrupt flag.
const POLL_SLICE: Duration = Duration::from_millis(10);

/// How long each phase may take. `read` bounds everything after the command is written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timeouts {
    pub connect: Duration,
    pub read: Duration,
    pub write: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        let second = Duration::from_secs(1);
        Timeouts { connect: second, read: second, write: second }
    }
}

/// Where and how to connect, parsed once at configure time.
#[derive(Clone)]
pub struct Settings {
    host: String,
    port: u16,
    db: i64,
    username: Option<String>,
    password: Option<String>,
    timeouts: Timeouts,
    tls: Option<Tls>,
}

impl std::fmt::Debug for Settings {
    // By hand so the password never reaches a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Settings({} db={})", self.address(), self.db)
    }
}

impl Settings {
    /// Parses a `redis://[user:password@]host[:port][/db]` URL, or `rediss://` for TLS, which
    /// trusts `ca_file` (PEM) when given and the system's certificates otherwise.
    pub fn from_url(url: &str, timeouts: Timeouts, ca_file: Option<&str>) -> Result<Settings, Error> {
        let bad = |why: &str| Error::Configuration(format!("redis_url is not usable: {why}"));
        for (name, value) in
            [("connect", timeouts.connect), ("read", timeouts.read), ("write", timeouts.write)]
        {
            if value.is_zero() || value > MAX_TIMEOUT {
                return Err(Error::Configuration(format!(
                    "{name}_timeout must be more than 0 and at most {} seconds",
                    MAX_TIMEOUT.as_secs()
                )));
            }
        }
        // The redis crate is built without its own TLS: parse rediss:// as redis:// and add ours.
        let (plain_url, use_tls) = match url.strip_prefix("rediss://") {
            Some(rest) => (format!("redis://{rest}"), true),
            None => (url.to_owned(), false),
        };
        let info = plain_url
            .as_str()
            .into_connection_info()
            .map_err(|_| bad("expected redis://[user:password@]host[:port][/db] or rediss://..."))?;
        let (host, port) = match info.addr() {
            ConnectionAddr::Tcp(host, port) => (host.clone(), *port),
            _ => return Err(bad("only redis:// and rediss:// URLs are supported (unix sockets are not)")),
        };
        if host.is_empty() {
            return Err(bad("it names no host"));
        }
        let tls = if use_tls { Some(Tls::new(&host, ca_file)?) } else { None };
        let redis = info.redis_settings();
        Ok(Settings {
            host,
            port,
            db: redis.db(),
            username: redis.username().map(str::to_owned),
            password: redis.password().map(str::to_owned),
            timeouts,
            tls,
        })
    }

    /// `host:port`, for error messages.
    pub fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// Lets another thread, or a signal handler on this one, stop a call that is blocked on Redis.
///
/// Triggering sets a flag and shuts the watched socket down, so a blocked read or write returns
/// at once; a call that is resolving a name or connecting sees the flag within [`POLL_SLICE`].
/// A triggered call's connection is never reused.
#[derive(Default)]
pub struct Interrupt {
    triggered: AtomicBool,
    /// Asked when a blocking call returns early (EINTR), before each read, and at each slice of
    /// a wait, for a caller that no unblocking function can reach: the binding, when the calling
    /// thread keeps Ruby's lock. A signal then cuts the system call short, and this lets Ruby
    /// handle it there and says whether the call must stop.
    poll: std::sync::OnceLock<fn() -> bool>,
    /// The socket a blocked call waits on, or -1.
    socket_fd: AtomicI32,
    /// A duplicate of every socket watched, so `socket_fd` stays the number of an open socket
    /// (never a reused one) until the interrupt is dropped, after the call.
    watched: Mutex<Vec<Arc<TcpStream>>>,
}

impl Interrupt {
    pub fn new() -> Arc<Interrupt> {
        Arc::new(Interrupt { socket_fd: AtomicI32::new(-1), ..Interrupt::default() })
    }

    /// Called from another thread or from a signal handler: atomics and `shutdown(2)` only,
    /// both async-signal-safe.
    pub fn trigger(&self) {
        self.triggered.store(true, Ordering::SeqCst);
        let fd = self.socket_fd.load(Ordering::SeqCst);
        if fd >= 0 {
            // SAFETY: `fd` is kept open by `watched` for as long as `self` lives.
            unsafe { libc::shutdown(fd, libc::SHUT_RDWR) };
        }
    }

    pub fn is_triggered(&self) -> bool {
        if self.triggered.load(Ordering::SeqCst) {
            return true;
        }
        let stop = self.poll.get().is_some_and(|must_stop| must_stop());
        if stop {
            self.triggered.store(true, Ordering::SeqCst);
        }
        stop
    }

    /// Makes `must_stop` part of [`Interrupt::is_triggered`] (see the `poll` field).
    pub fn poll_with(&self, must_stop: fn() -> bool) {
        let _ = self.poll.set(must_stop);
    }

    fn watch(&self, socket: &Arc<TcpStream>) -> Result<(), Error> {
        match self.watched.lock() {
            Ok(mut watched) => watched.push(Arc::clone(socket)),
            Err(_) => return Err(Error::Connection("the interrupt handle is unusable".into())),
        }
        self.socket_fd.store(socket.as_raw_fd(), Ordering::SeqCst);
        // Checked after publishing the socket: a trigger racing with us either sees the socket
        // or is seen here.
        self.check()
    }

    fn check(&self) -> Result<(), Error> {
        if self.is_triggered() {
            Err(interrupted())
        } else {
            Ok(())
        }
    }
}

pub fn interrupted() -> Error {
    Error::Connection("the call to Redis was interrupted".into())
}

/// The socket, plain or inside a TLS session.
enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(socket) => socket,
            Stream::Tls(tls) => &tls.sock,
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(socket) => socket.read(buf),
            Stream::Tls(tls) => tls.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(socket) => socket.write(buf),
            Stream::Tls(tls) => tls.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Plain(socket) => socket.flush(),
            Stream::Tls(tls) => tls.flush(),
        }
    }
}

/// An open, authenticated connection with the right database selected.
pub struct Connection {
    stream: Stream,
    /// A duplicate of the socket, so an [`Interrupt`] can shut it down from another thread.
    shutdown_handle: Arc<TcpStream>,
    /// The redis crate's RESP parser; it keeps bytes read past one reply for the next.
    parser: Parser,
    address: String,
    timeouts: Timeouts,
}

impl Connection {
    pub fn open(settings: &Settings, interrupt: &Interrupt) -> Result<Connection, Error> {
        let address = settings.address();
        let deadline = deadline_after(settings.timeouts.connect);
        let cannot =
            |why: String| Error::CannotConnect(format!("cannot connect to Redis at {address}: {why}"));
        interrupt.check()?;
        let socket = connect_tcp(settings, deadline, interrupt)?;
        let shutdown_handle = Arc::new(socket.try_clone().map_err(|e| cannot(e.to_string()))?);
        interrupt.watch(&shutdown_handle)?;
        let stream = match &settings.tls {
            None => Stream::Plain(socket),
            Some(tls) => Stream::Tls(Box::new(start_tls(tls, socket, deadline, interrupt)?)),
        };
        let socket = stream.tcp();
        let timeouts = socket
            .set_read_timeout(Some(settings.timeouts.read))
            .and_then(|()| socket.set_write_timeout(Some(settings.timeouts.write)));
        timeouts.map_err(|e| cannot(e.to_string()))?;
        let mut connection = Connection {
            stream,
            shutdown_handle,
            parser: Parser::new(),
            address,
            timeouts: settings.timeouts,
        };
        connection.handshake(settings, interrupt).map_err(|e| match e {
            Error::Timeout(m) | Error::Connection(m) if !interrupt.is_triggered() => Error::CannotConnect(m),
            other => other,
        })?;
        Ok(connection)
    }

    /// Sends one packed command and reads its reply. Error replies become [`Error::Command`].
    pub fn request(&mut self, packed: &[u8], interrupt: &Interrupt) -> Result<Value, Error> {
        self.send(packed, interrupt)?;
        let mut replies = self.receive(1, interrupt)?;
        replies.pop().ok_or_else(|| Error::Connection("Redis sent no reply".into()))
    }

    /// Writes packed commands, within the write timeout in total. On error, Redis has received
    /// at most part of the last command, which it never runs once this connection is dropped.
    pub fn send(&mut self, packed: &[u8], interrupt: &Interrupt) -> Result<(), Error> {
        let deadline = deadline_after(self.timeouts.write);
        let mut written = 0;
        let mut rearmed = false;
        while written < packed.len() {
            match self.stream.write(&packed[written..]) {
                Ok(0) => return Err(self.io_error(ErrorKind::WriteZero.into(), interrupt)),
                Ok(n) => written += n,
                Err(e) if e.kind() == ErrorKind::Interrupted && !interrupt.is_triggered() => {}
                Err(e) => return Err(self.io_error(e, interrupt)),
            }
            if written < packed.len() {
                // A slow reader: the rest must fit in what is left of the same deadline.
                let remaining = deadline.saturating_duration_since(Instant::now());
                if remaining.is_zero() {
                    return Err(self.io_error(ErrorKind::TimedOut.into(), interrupt));
                }
                let _ = self.stream.tcp().set_write_timeout(Some(remaining));
                rearmed = true;
            }
        }
        let flushed = self.stream.flush();
        if rearmed {
            let _ = self.stream.tcp().set_write_timeout(Some(self.timeouts.write));
        }
        flushed.map_err(|e| self.io_error(e, interrupt))
    }

    /// Reads `count` replies, all within one read timeout (a server that trickles bytes cannot
    /// stretch it). Every reply is read even when one is an error, so the connection stays in
    /// step; the first error reply becomes [`Error::Command`].
    pub fn receive(&mut self, count: usize, interrupt: &Interrupt) -> Result<Vec<Value>, Error> {
        let mut reader = DeadlineReader {
            stream: &mut self.stream,
            interrupt,
            deadline: deadline_after(self.timeouts.read),
            reads: 0,
            rearmed: false,
            failure: None,
        };
        let mut replies = Vec::with_capacity(count);
        let mut failure = None;
        for _ in 0..count {
            match self.parser.parse_value(&mut reader) {
                Ok(value) => replies.push(value),
                Err(e) => {
                    failure = Some(reader.failure.take().unwrap_or_else(|| {
                        std::io::Error::new(ErrorKind::InvalidData, format!("unreadable reply: {e}"))
                    }));
                    break;
                }
            }
        }
        if reader.rearmed {
            let _ = self.stream.tcp().set_read_timeout(Some(self.timeouts.read));
        }
        if let Some(e) = failure {
            return Err(self.io_error(e, interrupt));
        }
        let mut first_error = None;
        replies.retain(|reply| match reply {
            Value::ServerError(error) => {
                first_error.get_or_insert_with(|| match error.details() {
                    Some(details) => format!("{} {details}", error.code()),
                    None => error.code().to_owned(),
                });
                false
            }
            _ => true,
        });
        match first_error {
            Some(message) => {
                // Redis refuses long commands from a client that has not authenticated with
                // this protocol error instead of NOAUTH.
                let code = if message.contains("unauthenticated") {
                    "NOAUTH".to_owned()
                } else {
                    message.split(' ').next().unwrap_or_default().to_owned()
                };
                Err(Error::Command { code, message })
            }
            None => Ok(replies),
        }
    }

    /// Lets `interrupt` reach this connection during the next request.
    pub fn watch_with(&self, interrupt: &Interrupt) -> Result<(), Error> {
        interrupt.watch(&self.shutdown_handle)
    }

    /// True when nothing is waiting on an idle connection: not a close from Redis (a restart,
    /// an idle timeout), not stray bytes. One non-blocking peek; sends nothing.
    pub fn is_idle_and_open(&self) -> bool {
        let mut byte = [0u8; 1];
        // SAFETY: a valid socket and a one-byte buffer.
        let peeked = unsafe {
            libc::recv(
                self.shutdown_handle.as_raw_fd(),
                byte.as_mut_ptr().cast(),
                1,
                libc::MSG_PEEK | libc::MSG_DONTWAIT,
            )
        };
        peeked < 0 && std::io::Error::last_os_error().kind() == ErrorKind::WouldBlock
    }

    fn handshake(&mut self, settings: &Settings, interrupt: &Interrupt) -> Result<(), Error> {
        if let Some(password) = &settings.password {
            let mut auth = redis::cmd("AUTH");
            if let Some(username) = &settings.username {
                auth.arg(username);
            }
            auth.arg(password);
            self.request(&auth.get_packed_command(), interrupt)?;
        }
        if settings.db != 0 {
            self.request(&redis::cmd("SELECT").arg(settings.db).get_packed_command(), interrupt)?;
        }
        Ok(())
    }

    fn io_error(&self, e: std::io::Error, interrupt: &Interrupt) -> Error {
        if interrupt.is_triggered() {
            interrupted()
        } else if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) {
            Error::Timeout(format!("Redis at {} did not answer in time", self.address))
        } else {
            Error::Connection(format!("lost the connection to Redis at {}: {}", self.address, e))
        }
    }
}

/// `now + timeout`; timeouts are at most [`MAX_TIMEOUT`], so this cannot overflow in practice,
/// and saturates if it would.
fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout).unwrap_or(now)
}

/// Resolves the host and connects to the first address that accepts, all within `deadline`
/// and interruptible throughout.
fn connect_tcp(settings: &Settings, deadline: Instant, interrupt: &Interrupt) -> Result<TcpStream, Error> {
    let cannot = |why: String| {
        Error::CannotConnect(format!("cannot connect to Redis at {}: {why}", settings.address()))
    };
    let timed_out = || cannot(format!("timed out after {:?}", settings.timeouts.connect));
    let addrs = resolve(&settings.host, settings.port, deadline, interrupt, &timed_out)?;
    let mut last_error = cannot("the host name resolves to no address".into());
    for addr in addrs {
        match connect_addr(addr, deadline, interrupt) {
            Ok(socket) => return Ok(socket),
            Err(_) if interrupt.is_triggered() => return Err(interrupted()),
            Err(None) => return Err(timed_out()),
            Err(Some(e)) => last_error = cannot(e.to_string()),
        }
    }
    Err(last_error)
}

/// The host's addresses. A name is resolved on a helper thread so that a stalled resolver
/// cannot hold the call past `deadline` (the helper finishes on its own, later).
fn resolve(
    host: &str,
    port: u16,
    deadline: Instant,
    interrupt: &Interrupt,
    timed_out: &dyn Fn() -> Error,
) -> Result<Vec<SocketAddr>, Error> {
    if let Ok(ip) = host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let name = (host.to_owned(), port);
    match within_deadline(move || name.to_socket_addrs().map(Iterator::collect), deadline, interrupt) {
        Ok(addrs) => Ok(addrs),
        Err(Waited::Interrupted) => Err(interrupted()),
        Err(Waited::TimedOut) => Err(timed_out()),
        Err(Waited::Failed(why)) => Err(Error::CannotConnect(format!("cannot resolve {host}: {why}"))),
    }
}

enum Waited {
    Interrupted,
    TimedOut,
    Failed(String),
}

/// Runs a blocking `lookup` on a helper thread and waits for it until `deadline`, looking at
/// `interrupt` every [`POLL_SLICE`].
fn within_deadline<T: Send + 'static>(
    lookup: impl FnOnce() -> std::io::Result<T> + Send + 'static,
    deadline: Instant,
    interrupt: &Interrupt,
) -> Result<T, Waited> {
    let (sender, receiver) = mpsc::channel();
    std::thread::Builder::new()
        .name("session_bridge-resolve".into())
        .spawn(move || {
            let _ = sender.send(lookup());
        })
        .map_err(|e| Waited::Failed(e.to_string()))?;
    loop {
        if interrupt.is_triggered() {
            return Err(Waited::Interrupted);
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(Waited::TimedOut);
        }
        match receiver.recv_timeout(remaining.min(POLL_SLICE)) {
            Ok(result) => return result.map_err(|e| Waited::Failed(e.to_string())),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(Waited::Failed("the resolver stopped".into()))
            }
        }
    }
}

/// A non-blocking connect, waited for in slices so an interrupt is seen. `Err(None)` is the
/// deadline passing.
fn connect_addr(
    addr: SocketAddr,
    deadline: Instant,
    interrupt: &Interrupt,
) -> Result<TcpStream, Option<std::io::Error>> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_nonblocking(true)?;
    match socket.connect(&addr.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => loop {
            if interrupt.is_triggered() {
                return Err(None);
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(None);
            }
            let mut poll = libc::pollfd { fd: socket.as_raw_fd(), events: libc::POLLOUT, revents: 0 };
            let slice = remaining.min(POLL_SLICE).as_millis().max(1) as libc::c_int;
            // SAFETY: one valid pollfd.
            match unsafe { libc::poll(&mut poll, 1, slice) } {
                0 => {}
                n if n > 0 => match socket.take_error()? {
                    Some(e) => return Err(Some(e)),
                    None => break,
                },
                _ => {
                    let e = std::io::Error::last_os_error();
                    if e.kind() != ErrorKind::Interrupted {
                        return Err(Some(e));
                    }
                }
            }
        },
        Err(e) => return Err(Some(e)),
    }
    socket.set_nonblocking(false)?;
    let socket = TcpStream::from(socket);
    socket.set_nodelay(true)?;
    Ok(socket)
}

/// Runs the TLS handshake to completion within `deadline`, so a bad certificate or a silent
/// server is a connect failure rather than a surprise on the first command.
fn start_tls(
    tls: &Tls,
    mut socket: TcpStream,
    deadline: Instant,
    interrupt: &Interrupt,
) -> Result<StreamOwned<ClientConnection, TcpStream>, Error> {
    let cannot = |why: String| Error::CannotConnect(format!("cannot connect to Redis: {why}"));
    let mut session = ClientConnection::new(Arc::clone(&tls.config), tls.server_name.clone())
        .map_err(|e| cannot(e.to_string()))?;
    while session.is_handshaking() {
        interrupt.check()?;
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(cannot("the TLS handshake did not finish in time".into()));
        }
        socket
            .set_read_timeout(Some(remaining))
            .and_then(|()| socket.set_write_timeout(Some(remaining)))
            .map_err(|e| cannot(e.to_string()))?;
        match session.complete_io(&mut socket) {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) if interrupt.is_triggered() => return Err(interrupted()),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(cannot("the TLS handshake did not finish in time".into()))
            }
            Err(e) => return Err(cannot(format!("TLS handshake failed: {e}"))),
        }
    }
    Ok(StreamOwned::new(session, socket))
}

/// Reads replies within one deadline: the first read waits up to the read timeout set on the
/// socket; a reply that arrives in pieces gets only what is left for each further piece. Reads
/// resume after a signal (EINTR) unless the call was interrupted on purpose.
struct DeadlineReader<'a> {
    stream: &'a mut Stream,
    interrupt: &'a Interrupt,
    deadline: Instant,
    reads: u32,
    rearmed: bool,
    /// The I/O error behind a parse failure, kept because the parser reports it as text.
    failure: Option<std::io::Error>,
}

impl Read for DeadlineReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let result = self.read_within_deadline(buf);
        match result {
            Ok(0) => {
                self.failure = Some(ErrorKind::UnexpectedEof.into());
                Ok(0)
            }
            Ok(n) => Ok(n),
            Err(e) => {
                self.failure = Some(std::io::Error::new(e.kind(), e.to_string()));
                Err(e)
            }
        }
    }
}

impl DeadlineReader<'_> {
    fn read_within_deadline(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if self.interrupt.is_triggered() {
                return Err(ErrorKind::Interrupted.into());
            }
            if self.reads > 0 {
                let remaining = self.deadline.saturating_duration_since(Instant::now());
                if remaining.is_zero() {
                    return Err(ErrorKind::TimedOut.into());
                }
                self.stream.tcp().set_read_timeout(Some(remaining))?;
                self.rearmed = true;
            }
            self.reads += 1;
            match self.stream.read(buf) {
                Err(e) if e.kind() == ErrorKind::Interrupted && !self.interrupt.is_triggered() => {}
                result => return result,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_host_port_db_and_credentials() {
        let s =
            Settings::from_url("redis://user:s3cret@127.0.0.1:6380/2", Timeouts::default(), None).unwrap();
        assert_eq!(s.address(), "127.0.0.1:6380");
        assert_eq!(s.db, 2);
        assert_eq!(s.username.as_deref(), Some("user"));
        assert_eq!(s.password.as_deref(), Some("s3cret"));
        assert!(!format!("{s:?}").contains("s3cret"));
    }

    #[test]
    fn rejects_urls_it_cannot_use() {
        for url in ["", "not a url", "http://127.0.0.1", "redis://", "unix:///tmp/redis.sock"] {
            assert!(
                matches!(Settings::from_url(url, Timeouts::default(), None), Err(Error::Configuration(_))),
                "{url:?}"
            );
        }
    }

    #[test]
    fn rejects_zero_and_absurd_timeouts() {
        for read in [Duration::ZERO, MAX_TIMEOUT + Duration::from_secs(1), Duration::from_secs_f64(1e19)] {
            let timeouts = Timeouts { read, ..Timeouts::default() };
            assert!(matches!(
                Settings::from_url("redis://127.0.0.1", timeouts, None),
                Err(Error::Configuration(m)) if m.contains("read_timeout")
            ));
        }
    }

    #[test]
    fn a_closed_port_is_a_cannot_connect_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let s = Settings::from_url(&format!("redis://127.0.0.1:{port}"), Timeouts::default(), None).unwrap();
        assert!(matches!(Connection::open(&s, &Interrupt::default()), Err(Error::CannotConnect(_))));
    }

    #[test]
    fn a_triggered_interrupt_stops_a_blocked_read() {
        // A server that accepts and never answers.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let timeouts = Timeouts { read: Duration::from_secs(30), ..Timeouts::default() };
        let s = Settings::from_url(&format!("redis://127.0.0.1:{port}"), timeouts, None).unwrap();
        let interrupt = Interrupt::new();
        let mut connection = Connection::open(&s, &interrupt).unwrap();
        let _peer = listener.accept().unwrap();
        let trigger = Arc::clone(&interrupt);
        let started = Instant::now();
        let killer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            trigger.trigger();
        });
        let result = connection.request(&redis::cmd("PING").get_packed_command(), &interrupt);
        killer.join().unwrap();
        assert!(matches!(result, Err(Error::Connection(m)) if m.contains("interrupted")));
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_silent_server_is_a_timeout() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let timeouts = Timeouts { read: Duration::from_millis(100), ..Timeouts::default() };
        let s = Settings::from_url(&format!("redis://127.0.0.1:{port}"), timeouts, None).unwrap();
        let interrupt = Interrupt::new();
        let mut connection = Connection::open(&s, &interrupt).unwrap();
        let _peer = listener.accept().unwrap();
        let result = connection.request(&redis::cmd("PING").get_packed_command(), &interrupt);
        assert!(matches!(result, Err(Error::Timeout(_))), "{result:?}");
    }

    /// Accepts one connection, reads the request, then hands the socket to `answer`.
    fn serving(
        answer: impl FnOnce(std::net::TcpStream) + Send + 'static,
    ) -> (u16, std::thread::JoinHandle<()>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut peer, _) = listener.accept().unwrap();
            let mut request = [0u8; 256];
            let _ = peer.read(&mut request);
            answer(peer);
        });
        (port, server)
    }

    /// Answers `reply` in pieces of `piece` bytes, `pause` apart, then keeps the socket open a while.
    fn answering(reply: Vec<u8>, piece: usize, pause: Duration) -> (u16, std::thread::JoinHandle<()>) {
        serving(move |mut peer| {
            for chunk in reply.chunks(piece) {
                if peer.write_all(chunk).is_err() {
                    return;
                }
                std::thread::sleep(pause);
            }
            std::thread::sleep(Duration::from_millis(300));
        })
    }

    fn request_to(port: u16, timeouts: Timeouts) -> Result<Vec<Value>, Error> {
        let s = Settings::from_url(&format!("redis://127.0.0.1:{port}"), timeouts, None).unwrap();
        let interrupt = Interrupt::new();
        let mut connection = Connection::open(&s, &interrupt)?;
        connection.send(&redis::cmd("EXEC").get_packed_command(), &interrupt)?;
        connection.receive(1, &interrupt)
    }

    #[test]
    fn an_error_reply_inside_an_array_is_a_value() {
        let (port, server) = answering(b"*2\r\n-ERR inner\r\n:1\r\n".to_vec(), 64, Duration::ZERO);
        let replies = request_to(port, Timeouts::default()).unwrap();
        server.join().unwrap();
        assert!(
            matches!(&replies[..], [Value::Array(items)] if matches!(&items[..], [Value::ServerError(_), Value::Int(1)]))
        );
    }

    #[test]
    fn a_reply_that_is_not_resp_is_a_connection_error() {
        let (port, server) = answering(b"\r\n".to_vec(), 64, Duration::ZERO);
        let result = request_to(port, Timeouts::default());
        server.join().unwrap();
        assert!(matches!(result, Err(Error::Connection(_))), "{result:?}");
    }

    #[test]
    fn a_large_reply_in_many_pieces_is_read_once_through() {
        let mut reply = b"*16384\r\n".to_vec();
        for i in 0..16384 {
            reply.extend_from_slice(format!(":{i}\r\n").as_bytes());
        }
        let (port, server) = answering(reply, 1000, Duration::ZERO);
        let replies = request_to(port, Timeouts::default()).unwrap();
        server.join().unwrap();
        assert!(matches!(&replies[..], [Value::Array(items)] if items.len() == 16384));
    }

    #[test]
    fn a_trickling_reply_cannot_stretch_the_read_timeout() {
        let (port, server) = answering(b"$10\r\n0123456789\r\n".to_vec(), 1, Duration::from_millis(100));
        let timeouts = Timeouts { read: Duration::from_millis(250), ..Timeouts::default() };
        let started = Instant::now();
        let result = request_to(port, timeouts);
        let took = started.elapsed();
        server.join().unwrap();
        assert!(matches!(result, Err(Error::Timeout(_))), "{result:?}");
        assert!(took < Duration::from_millis(450), "{took:?}");
    }

    #[test]
    fn a_stalled_resolver_is_given_up_at_the_deadline() {
        let stalled = || {
            std::thread::sleep(Duration::from_secs(5));
            Ok(Vec::<SocketAddr>::new())
        };
        let started = Instant::now();
        let result = within_deadline(stalled, started + Duration::from_millis(100), &Interrupt::default());
        assert!(matches!(result, Err(Waited::TimedOut)));
        assert!(started.elapsed() < Duration::from_millis(300));
    }

    #[test]
    fn a_stalled_resolver_is_given_up_when_interrupted() {
        let stalled = || {
            std::thread::sleep(Duration::from_secs(5));
            Ok(Vec::<SocketAddr>::new())
        };
        let interrupt = Interrupt::new();
        let trigger = Arc::clone(&interrupt);
        let killer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            trigger.trigger();
        });
        let started = Instant::now();
        let result = within_deadline(stalled, started + Duration::from_secs(10), &interrupt);
        killer.join().unwrap();
        assert!(matches!(result, Err(Waited::Interrupted)));
        assert!(started.elapsed() < Duration::from_millis(300));
    }
}
