//! [`Held`]: the connection on which something was acquired, kept until it is released.
//! The server ties what a connection acquires to it, so a holder that dies gives it back.

use multiproc_channel::SocketConnection;

use crate::endpoint::{exchange, into_result};
use crate::error::ManagerError;
use crate::proxy::{Handle, unexpected};
use crate::wire::{Reply, Request};

/// A proxy's handle and the connection that holds an acquisition.
pub(crate) struct Held {
    pub(crate) handle: Handle,
    connection: Option<SocketConnection<()>>,
}

/// Sends an acquiring `request` on a connection of its own; the connection is kept if the
/// server says `Bool(true)`, and `None` comes back for `Bool(false)`.
pub(crate) fn acquire(handle: &Handle, request: &Request) -> Result<Option<Held>, ManagerError> {
    let connection = handle.endpoint.checkout()?;
    let reply = exchange(&connection, request, handle.timeout)?;
    match into_result(reply) {
        Ok(Reply::Bool(true)) => Ok(Some(Held {
            handle: handle.clone(),
            connection: Some(connection),
        })),
        Ok(Reply::Bool(false)) => {
            handle.endpoint.checkin(connection);
            Ok(None)
        }
        Ok(other) => Err(unexpected(other)),
        Err(error) => {
            handle.endpoint.checkin(connection);
            Err(error)
        }
    }
}

/// An acquisition without a timeout that the server gave up: it cannot happen.
pub(crate) fn never_gave_up() -> ManagerError {
    ManagerError::Codec("the manager gave up an acquire without a timeout".into())
}

impl Held {
    /// Sends the releasing `request` on the holding connection, once; later calls do
    /// nothing. If the manager cannot be told, the connection is closed, which releases the
    /// acquisition in a server that is still alive.
    pub(crate) fn release(&mut self, request: &Request) -> Result<(), ManagerError> {
        let Some(connection) = self.connection.take() else {
            return Ok(());
        };
        let reply = exchange(&connection, request, self.handle.timeout)?;
        self.handle.endpoint.checkin(connection);
        match into_result(reply)? {
            Reply::Done => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    /// A call on the holding connection (a condition's wait or notify). A connection that
    /// fails is closed, which releases the acquisition in a server that is still alive.
    pub(crate) fn call(&mut self, request: &Request) -> Result<Reply, ManagerError> {
        let connection = self.connection.as_ref().ok_or(ManagerError::ManagerGone)?;
        match exchange(connection, request, self.handle.timeout) {
            Ok(reply) => into_result(reply),
            Err(error) => {
                self.connection = None;
                Err(error)
            }
        }
    }
}
