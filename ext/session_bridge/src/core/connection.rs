//! One blocking Redis connection: connect with a deadline, handshake, request/reply with
//! read and write timeouts, and an [`Interrupt`] that another thread can trigger to make a
//! blocked call return at once (the binding hands it to Ruby as the unblocking function).

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis::{ConnectionAddr, IntoConnectionInfo, Value};
use rustls::{ClientConnection, StreamOwned};

use super::resp::{Frame, ReplyReader};
use super::tls::Tls;
use super::Error;

/// How long each phase may take.
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
            if value.is_zero() {
                return Err(Error::Configuration(format!("{name}_timeout must be greater than zero")));
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

/// Lets another thread stop a call that is blocked on Redis.
///
/// Triggering it shuts the socket down, so a blocked read or write returns at once with an error;
/// a call that has not connected yet sees the flag and gives up. A triggered call's connection
/// is never reused.
#[derive(Default)]
pub struct Interrupt {
    triggered: AtomicBool,
    socket: Mutex<Option<Arc<TcpStream>>>,
}

impl Interrupt {
    pub fn new() -> Arc<Interrupt> {
        Arc::new(Interrupt::default())
    }

    /// Called from another thread (Ruby's unblocking function).
    pub fn trigger(&self) {
        self.triggered.store(true, Ordering::SeqCst);
        if let Ok(guard) = self.socket.lock() {
            if let Some(socket) = guard.as_ref() {
                let _ = socket.shutdown(Shutdown::Both);
            }
        }
    }

    pub fn is_triggered(&self) -> bool {
        self.triggered.load(Ordering::SeqCst)
    }

    fn watch(&self, socket: Arc<TcpStream>) -> Result<(), Error> {
        if let Ok(mut guard) = self.socket.lock() {
            *guard = Some(socket);
        }
        // Checked after publishing the socket: a trigger racing with us either sees the socket
        // or is seen here.
        if self.is_triggered() {
            return Err(interrupted());
        }
        Ok(())
    }
}

fn interrupted() -> Error {
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
    replies: ReplyReader,
    address: String,
    read_timeout: Duration,
}

impl Connection {
    pub fn open(settings: &Settings, interrupt: &Interrupt) -> Result<Connection, Error> {
        let address = settings.address();
        let deadline = Instant::now() + settings.timeouts.connect;
        let cannot =
            |why: String| Error::CannotConnect(format!("cannot connect to Redis at {address}: {why}"));
        if interrupt.is_triggered() {
            return Err(interrupted());
        }
        let socket = connect_tcp(settings, deadline).map_err(cannot)?;
        let shutdown_handle = Arc::new(socket.try_clone().map_err(|e| cannot(e.to_string()))?);
        interrupt.watch(Arc::clone(&shutdown_handle))?;
        let stream = match &settings.tls {
            None => Stream::Plain(socket),
            Some(tls) => Stream::Tls(Box::new(start_tls(tls, socket, deadline, interrupt).map_err(cannot)?)),
        };
        let socket = stream.tcp();
        let timeouts = socket
            .set_read_timeout(Some(settings.timeouts.read))
            .and_then(|()| socket.set_write_timeout(Some(settings.timeouts.write)));
        timeouts.map_err(|e| cannot(e.to_string()))?;
        let mut connection = Connection {
            stream,
            shutdown_handle,
            replies: ReplyReader::default(),
            address,
            read_timeout: settings.timeouts.read,
        };
        connection.handshake(settings, interrupt).map_err(|e| match e {
            Error::Timeout(m) | Error::Connection(m) if !interrupt.is_triggered() => Error::CannotConnect(m),
            other => other,
        })?;
        Ok(connection)
    }

    /// Sends one packed command and reads its reply. Error replies become [`Error::Command`].
    pub fn request(&mut self, packed: &[u8], interrupt: &Interrupt) -> Result<Value, Error> {
        let mut replies = self.pipeline(packed, 1, interrupt)?;
        replies.pop().ok_or_else(|| Error::Connection("Redis sent no reply".into()))
    }

    /// Sends `count` packed commands in one write and reads all their replies (one round trip).
    /// Every reply is read even when one is an error, so the connection stays in step.
    pub fn pipeline(
        &mut self,
        packed: &[u8],
        count: usize,
        interrupt: &Interrupt,
    ) -> Result<Vec<Value>, Error> {
        let written = self.stream.write_all(packed).and_then(|()| self.stream.flush());
        written.map_err(|e| self.io_error(e, interrupt))?;
        let mut reader = PatientReader {
            stream: &mut self.stream,
            interrupt,
            deadline: Instant::now() + self.read_timeout,
            rearmed: false,
        };
        let mut frames = Vec::with_capacity(count);
        let mut failure = None;
        for _ in 0..count {
            match self.replies.next(&mut reader) {
                Ok(frame) => frames.push(frame),
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        if reader.rearmed {
            let _ = self.stream.tcp().set_read_timeout(Some(self.read_timeout));
        }
        if let Some(e) = failure {
            return Err(self.io_error(e, interrupt));
        }
        let mut replies = Vec::with_capacity(count);
        let mut first_error = None;
        for frame in frames {
            match frame {
                Frame::Value(value) => replies.push(value),
                Frame::Error(message) => {
                    first_error.get_or_insert(message);
                }
            }
        }
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
        interrupt.watch(Arc::clone(&self.shutdown_handle))
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

/// Tries each address the host resolves to until one accepts, all within `deadline`.
fn connect_tcp(settings: &Settings, deadline: Instant) -> Result<TcpStream, String> {
    let addrs: Vec<SocketAddr> =
        (settings.host.as_str(), settings.port).to_socket_addrs().map_err(|e| e.to_string())?.collect();
    let timed_out = || format!("timed out after {:?}", settings.timeouts.connect);
    let mut last_error = String::from("the host name resolves to no address");
    for addr in addrs {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(timed_out());
        }
        match TcpStream::connect_timeout(&addr, remaining) {
            Ok(socket) => {
                socket.set_nodelay(true).map_err(|e| e.to_string())?;
                return Ok(socket);
            }
            Err(e) if e.kind() == ErrorKind::TimedOut => last_error = timed_out(),
            Err(e) => last_error = e.to_string(),
        }
    }
    Err(last_error)
}

/// Runs the TLS handshake to completion within `deadline`, so a bad certificate or a silent
/// server is a connect failure rather than a surprise on the first command.
fn start_tls(
    tls: &Tls,
    mut socket: TcpStream,
    deadline: Instant,
    interrupt: &Interrupt,
) -> Result<StreamOwned<ClientConnection, TcpStream>, String> {
    let mut session =
        ClientConnection::new(Arc::clone(&tls.config), tls.server_name.clone()).map_err(|e| e.to_string())?;
    while session.is_handshaking() {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() || interrupt.is_triggered() {
            return Err("the TLS handshake did not finish in time".into());
        }
        socket
            .set_read_timeout(Some(remaining))
            .and_then(|()| socket.set_write_timeout(Some(remaining)))
            .map_err(|e| e.to_string())?;
        match session.complete_io(&mut socket) {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err("the TLS handshake did not finish in time".into())
            }
            Err(e) => return Err(format!("TLS handshake failed: {e}")),
        }
    }
    Ok(StreamOwned::new(session, socket))
}

/// Reads from the connection, resuming after a signal (EINTR: Ruby's SIGCHLD, a timer) until
/// the read timeout has passed in total, unless the call was interrupted on purpose.
struct PatientReader<'a> {
    stream: &'a mut Stream,
    interrupt: &'a Interrupt,
    deadline: Instant,
    rearmed: bool,
}

impl Read for PatientReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            match self.stream.read(buf) {
                Err(e) if e.kind() == ErrorKind::Interrupted && !self.interrupt.is_triggered() => {
                    let remaining = self.deadline.saturating_duration_since(Instant::now());
                    if remaining.is_zero() {
                        return Err(ErrorKind::TimedOut.into());
                    }
                    self.stream.tcp().set_read_timeout(Some(remaining))?;
                    self.rearmed = true;
                }
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
    fn rejects_zero_timeouts() {
        let timeouts = Timeouts { read: Duration::ZERO, ..Timeouts::default() };
        assert!(matches!(
            Settings::from_url("redis://127.0.0.1", timeouts, None),
            Err(Error::Configuration(m)) if m.contains("read_timeout")
        ));
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
}
