//! [`ManagerBuilder`]: the options of a manager's server process, and its launch.

use std::net::ToSocketAddrs;
use std::sync::Mutex;
use std::time::Duration;

use multiproc_channel::Pipe;
use multiproc_process::{StartMethod, get_context, get_start_method};

use crate::endpoint::Endpoint;
use crate::error::ManagerError;
use crate::manager::{Manager, SHUTDOWN_GRACE};
use crate::server::{self, Bind};

/// Options for starting a manager: [`Manager::builder`].
///
/// # Examples
///
/// ```
/// use multiproc_process::StartMethod;
///
/// let manager = multiproc_manager::Manager::builder()
///     .start_method(StartMethod::Spawn)
///     .max_connections(64)
///     .start()?;
/// assert_eq!(manager.list::<u8>()?.len()?, 0);
/// # Ok::<(), multiproc_manager::ManagerError>(())
/// ```
#[derive(Clone, Debug)]
pub struct ManagerBuilder {
    method: Option<StartMethod>,
    max_connections: usize,
    start_timeout: Duration,
}

impl ManagerBuilder {
    /// The defaults: the program's start method, 256 connections, 30 s to start.
    pub(crate) fn new() -> ManagerBuilder {
        ManagerBuilder {
            method: None,
            max_connections: 256,
            start_timeout: Duration::from_secs(30),
        }
    }

    /// The start method of the server process (default: the program's,
    /// [`get_start_method`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::builder()
    ///     .start_method(multiproc_process::StartMethod::Fork)
    ///     .start()?;
    /// # drop(manager);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn start_method(mut self, method: StartMethod) -> ManagerBuilder {
        self.method = Some(method);
        self
    }

    /// The most client connections served at once, each on its own server thread (default
    /// 256). Further clients wait to be accepted.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = multiproc_manager::Manager::builder().max_connections(16);
    /// # drop(builder);
    /// ```
    pub fn max_connections(mut self, connections: usize) -> ManagerBuilder {
        self.max_connections = connections.max(1);
        self
    }

    /// How long to wait for the server process to listen (default 30 s).
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = multiproc_manager::Manager::builder()
    ///     .start_timeout(std::time::Duration::from_secs(5));
    /// # drop(builder);
    /// ```
    pub fn start_timeout(mut self, timeout: Duration) -> ManagerBuilder {
        self.start_timeout = timeout;
        self
    }

    /// Starts a server on a private Unix socket with a random `authkey`: see
    /// [`Manager::start`].
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::builder().start()?;
    /// # drop(manager);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn start(self) -> Result<Manager, ManagerError> {
        let mut authkey = vec![0; 32];
        multiproc_sys::random::fill(&mut authkey).map_err(|e| ManagerError::Bind(e.to_string()))?;
        self.launch(Bind::UnixTemp, authkey)
    }

    /// Starts a server on TCP `address` with `authkey`: see [`Manager::serve`].
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::builder().serve("127.0.0.1:0", b"key")?;
    /// # drop(manager);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn serve(
        self,
        address: impl ToSocketAddrs,
        authkey: &[u8],
    ) -> Result<Manager, ManagerError> {
        if authkey.is_empty() {
            return Err(ManagerError::Connect(
                multiproc_channel::ListenerError::AuthkeyRequired,
            ));
        }
        let address = crate::endpoint::first_address(address)?;
        self.launch(Bind::Tcp(address), authkey.to_vec())
    }

    fn launch(self, bind: Bind, authkey: Vec<u8>) -> Result<Manager, ManagerError> {
        let (ready, ready_writer) =
            Pipe::<server::Ready>::new().map_err(|e| ManagerError::Bind(e.to_string()))?;
        let method = self.method.unwrap_or_else(get_start_method);
        let mut process = get_context(method)
            .process(
                server::serve,
                (
                    bind,
                    authkey.clone(),
                    self.max_connections as u64,
                    ready_writer,
                ),
            )
            // At exit, a manager left running is stopped rather than waited for.
            .with_daemon(true);
        process.set_name("Manager");
        process.start()?;
        let address = match ready.recv_timeout(self.start_timeout) {
            Ok(Ok(address)) => address,
            Ok(Err(message)) => {
                let _ = process.join_timeout(SHUTDOWN_GRACE);
                let _ = process.kill();
                let _ = process.join();
                return Err(ManagerError::Bind(message));
            }
            Err(error) => {
                let _ = process.kill();
                let _ = process.join();
                return Err(ManagerError::Bind(format!(
                    "the manager process did not report its address: {error}"
                )));
            }
        };
        Ok(Manager {
            endpoint: Endpoint { address, authkey },
            server: Some(Mutex::new(Some(process))),
            owner_pid: std::process::id(),
        })
    }
}

/// How a manager is started: [`Manager::start`], [`Manager::builder`], [`Manager::serve`].
impl Manager {
    /// Starts a manager's server process (with the program's start method) on a private
    /// Unix socket, authenticated with a random key: Python's `multiprocessing.Manager()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::start()?;
    /// let counts = manager.dict::<String, u64>()?;
    /// counts.insert("a".into(), 1)?;
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn start() -> Result<Manager, ManagerError> {
        Manager::builder().start()
    }

    /// Options for starting a manager.
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = multiproc_manager::Manager::builder().max_connections(8).start()?;
    /// # drop(manager);
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn builder() -> ManagerBuilder {
        ManagerBuilder::new()
    }

    /// Starts a manager's server process listening on TCP `address` (port 0 picks one:
    /// see [`address`](Self::address)), for clients that [`connect`](Self::connect) with
    /// the same `authkey`: Python's `BaseManager(address, authkey).start()`.
    ///
    /// Every connection runs the HMAC challenge of `multiprocessing.connection` (the key
    /// authenticates, it does not encrypt: loopback or a trusted network only), with the
    /// channel crate's frame limit and handshake timeout.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_manager::Manager;
    ///
    /// let server = Manager::serve("127.0.0.1:0", b"secret")?;
    /// let board = server.dict::<String, String>()?;
    /// server.publish("board", &board)?;
    ///
    /// // Elsewhere (another program, another machine):
    /// let client = Manager::connect(server.address().to_string(), b"secret")?;
    /// let board = client.lookup::<multiproc_manager::DictProxy<String, String>>("board")?;
    /// board.insert("hello".into(), "world".into())?;
    /// # Ok::<(), multiproc_manager::ManagerError>(())
    /// ```
    pub fn serve(address: impl ToSocketAddrs, authkey: &[u8]) -> Result<Manager, ManagerError> {
        Manager::builder().serve(address, authkey)
    }
}
